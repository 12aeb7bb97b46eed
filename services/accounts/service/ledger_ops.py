"""The one way an invoice's open amount changes: a dated ledger line in the caller's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.ids import new_id
from services.accounts.domain.records import SourceKind
from services.accounts.models import AllocationRow, HoldMovementRow, HoldRow, InvoiceRow


def post_to_invoice(
    session: AsyncSession,
    clock: Clock,
    invoice: InvoiceRow,
    kind: SourceKind,
    source_id: str,
    amount_minor: int,
    applied_date: date,
    reason_code: str = "",
) -> None:
    session.add(
        AllocationRow(
            id=new_id(),
            invoice_id=invoice.id,
            source_kind=kind.value,
            source_id=source_id,
            amount_minor=amount_minor,
            applied_date=applied_date,
            reason_code=reason_code,
            created_at=clock.now(),
        )
    )
    invoice.open_minor -= amount_minor
    if invoice.open_minor == 0:
        invoice.closed_date = max(applied_date, invoice.invoice_date)


def move_hold(
    session: AsyncSession, clock: Clock, invoice: InvoiceRow, hold: HoldRow, delta_minor: int
) -> None:
    """Grow (+) or shrink (−) a hold and the invoice's held total, recording the movement."""
    now = clock.now()
    hold.amount_minor += delta_minor
    hold.updated_at = now
    invoice.held_minor += delta_minor
    session.add(
        HoldMovementRow(
            id=new_id(),
            hold_id=hold.id,
            invoice_id=invoice.id,
            delta_minor=delta_minor,
            occurred_on=now.date(),
            occurred_at=now,
        )
    )
