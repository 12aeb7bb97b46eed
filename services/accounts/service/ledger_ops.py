"""How an invoice loaded through the ORM changes its open or held amount: a dated ledger line or
hold movement added in the caller's unit of work. (PlaceHold and ReleaseHold change holds with
Core statements instead, data/holds.py; no transaction does both.)"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data import rows
from services.accounts.data.models import AllocationRow, HoldMovementRow, HoldRow, InvoiceRow
from services.accounts.domain.records import SourceKind


def post_to_invoice(
    session: AsyncSession,
    now: datetime,
    invoice: InvoiceRow,
    kind: SourceKind,
    source_id: str,
    amount_minor: int,
    applied_date: date,
    reason_code: str = "",
) -> None:
    row = rows.allocation(invoice.id, kind, source_id, amount_minor, applied_date, now, reason_code)
    session.add(AllocationRow(**row))
    invoice.open_minor -= amount_minor
    if invoice.open_minor == 0:
        invoice.closed_date = max(applied_date, invoice.invoice_date)


def shrink_hold(
    session: AsyncSession, now: datetime, invoice: InvoiceRow, hold: HoldRow, amount_minor: int
) -> None:
    """Release `amount_minor` of one of the invoice's holds, recording the movement."""
    hold.amount_minor -= amount_minor
    hold.updated_at = now
    invoice.held_minor -= amount_minor
    session.add(HoldMovementRow(**rows.hold_movement(hold.id, invoice.id, -amount_minor, now)))
