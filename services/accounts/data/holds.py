"""The hold commands (PlaceHold, ReleaseHold) as Core statements built once: a PlaceHold per
opened dispute runs them. Every statement of such a transaction is Core, the invoice included;
PostDisputeAdjustment, which also changes the ledger, goes through the ORM alone
(service/holds.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.inserts import insert_rows
from services.accounts.data import rows
from services.accounts.data.models import HoldMovementRow, HoldRow, InvoiceRow
from services.accounts.data.reads import HoldRecord
from services.accounts.data.repository import missing

_holds, _movements, _invoices = HoldRow.__table__, HoldMovementRow.__table__, InvoiceRow.__table__

# The invoice (row-locked: every hold change of an invoice queues here) and this dispute's hold
# on it, in one statement.
_LOCK = (
    select(
        _invoices.c.customer_id,
        _invoices.c.currency,
        _invoices.c.open_minor,
        _invoices.c.held_minor,
        _holds.c.id.label("hold_id"),
        _holds.c.amount_minor.label("hold_minor"),
        _holds.c.created_at.label("hold_created_at"),
        _holds.c.updated_at.label("hold_updated_at"),
    )
    .outerjoin(
        _holds, (_holds.c.invoice_id == _invoices.c.id) & (_holds.c.dispute == bindparam("dispute"))
    )
    .where(_invoices.c.id == bindparam("invoice"))
    .with_for_update(of=_invoices)
)
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


async def lock_invoice(
    session: AsyncSession, invoice_id: str, dispute: str
) -> tuple[Any, HoldRecord | None]:
    """(the locked invoice's customer_id, currency, open_minor and held_minor; this dispute's
    hold or None)."""
    invoice = (
        await session.execute(_LOCK, {"invoice": invoice_id, "dispute": dispute})
    ).one_or_none()
    if invoice is None:
        raise missing("invoice", invoice_id)
    if invoice.hold_id is None:
        return invoice, None
    hold = HoldRecord(
        invoice.hold_id,
        invoice_id,
        dispute,
        invoice.hold_minor,
        invoice.hold_created_at,
        invoice.hold_updated_at,
    )
    return invoice, hold


async def open_hold(
    session: AsyncSession,
    invoice_id: str,
    dispute: str,
    amount_minor: int,
    now: datetime,
    hold_id: str | None = None,
) -> HoldRecord:
    """A new hold of `amount_minor` (its id `hold_id` when the caller chose it), written with its
    first movement in one statement on PostgreSQL, then added to the invoice's held total."""
    hold = HoldRecord(**rows.hold(invoice_id, dispute, amount_minor, now, hold_id))
    movement = rows.hold_movement(hold.id, invoice_id, amount_minor, now)
    conn = await session.connection()
    await insert_rows(conn, {_holds: [hold._asdict()], _movements: [movement]})
    await session.execute(_ADD_HELD, {"invoice": invoice_id, "delta": amount_minor})
    return hold


async def move_hold(
    session: AsyncSession, hold: HoldRecord, delta_minor: int, now: datetime
) -> HoldRecord:
    """Grow (+) or shrink (−) a hold and the invoice's held total, recording the movement.
    The caller holds the invoice's row lock (`lock_invoice`)."""
    await session.execute(_MOVE_HOLD, {"hold": hold.id, "delta": delta_minor, "now": now})
    await _record(session, hold, delta_minor, now)
    return hold._replace(amount_minor=hold.amount_minor + delta_minor, updated_at=now)


async def _record(session: AsyncSession, hold: HoldRecord, delta_minor: int, now: datetime) -> None:
    movement = rows.hold_movement(hold.id, hold.invoice_id, delta_minor, now)
    await session.execute(_RECORD_MOVEMENT, movement)
    await session.execute(_ADD_HELD, {"invoice": hold.invoice_id, "delta": delta_minor})
