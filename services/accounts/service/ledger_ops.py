"""The one way an invoice's open or held amount changes: a dated ledger line or hold movement in
the caller's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.ids import new_id
from services.accounts.data.models import AllocationRow, HoldMovementRow, HoldRow, InvoiceRow
from services.accounts.data.reads import HoldRecord
from services.accounts.domain.records import SourceKind


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


# Hold changes as Core statements built once: a PlaceHold per opened dispute runs them.
_holds, _movements, _invoices = HoldRow.__table__, HoldMovementRow.__table__, InvoiceRow.__table__
_NEW_HOLD = insert(_holds)
_MOVE_HOLD = (
    update(_holds)
    .where(_holds.c.id == bindparam("hold"))
    .values(amount_minor=_holds.c.amount_minor + bindparam("delta"), updated_at=bindparam("now"))
)
_RECORD_MOVEMENT = insert(_movements)
_ADD_HELD = (
    update(_invoices)
    .where(_invoices.c.id == bindparam("invoice"))
    .values(held_minor=_invoices.c.held_minor + bindparam("delta"))
)


async def open_hold(
    session: AsyncSession, clock: Clock, invoice_id: str, dispute: str, amount_minor: int
) -> HoldRecord:
    """A new hold of `amount_minor`, written with that amount and its first movement."""
    now = clock.now()
    hold = HoldRecord(new_id(), invoice_id, dispute, amount_minor, now, now)
    await session.execute(_NEW_HOLD, hold._asdict())
    await _record(session, hold, amount_minor, now)
    return hold


async def move_hold(
    session: AsyncSession, clock: Clock, hold: HoldRecord, delta_minor: int
) -> HoldRecord:
    """Grow (+) or shrink (−) a hold and the invoice's held total, recording the movement.
    The caller holds the invoice's row lock."""
    now = clock.now()
    await session.execute(_MOVE_HOLD, {"hold": hold.id, "delta": delta_minor, "now": now})
    await _record(session, hold, delta_minor, now)
    return hold._replace(amount_minor=hold.amount_minor + delta_minor, updated_at=now)


async def _record(session: AsyncSession, hold: HoldRecord, delta_minor: int, now) -> None:
    movement = {
        "id": new_id(),
        "hold_id": hold.id,
        "invoice_id": hold.invoice_id,
        "delta_minor": delta_minor,
        "occurred_on": now.date(),
        "occurred_at": now,
    }
    await session.execute(_RECORD_MOVEMENT, movement)
    await session.execute(_ADD_HELD, {"invoice": hold.invoice_id, "delta": delta_minor})
