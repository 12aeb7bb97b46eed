"""The promise evaluator's statements, set-based: a batch of due promises costs a fixed number of
statements whatever its size. The claim locks the due OPEN promises with FOR UPDATE SKIP LOCKED
(PostgreSQL; SQLite runs one writer at a time), so evaluators on several replicas share the work
and each promise is judged once, in the transaction that claimed it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data.collections_models import PromiseEventRow, PromiseInvoiceRow, PromiseRow
from services.accounts.data.models import CustomerRow, OutboxEventRow
from services.accounts.data.promise_payments import PAID_LINES
from services.accounts.domain.promises import PromiseState

_p, _links, _lines = PromiseRow.__table__, PromiseInvoiceRow.__table__, PAID_LINES
_c = CustomerRow.__table__
_ids = bindparam("ids", expanding=True)
_STANDING = (PromiseState.WITHDRAWN.value, PromiseState.CANCELLED.value)


class DuePromise(NamedTuple):
    id: str
    customer_id: str
    currency: str
    amount_minor: int
    deadline_at: datetime


_CLAIM = (
    select(_p.c.id, _p.c.customer_id, _p.c.currency, _p.c.amount_minor, _p.c.deadline_at)
    .where(_p.c.state == PromiseState.OPEN.value, _p.c.deadline_at <= bindparam("now"))
    .order_by(_p.c.deadline_at, _p.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_NEXT_DUE = select(func.min(_p.c.deadline_at)).where(_p.c.state == PromiseState.OPEN.value)
# Payments allocated to a promise's invoices between the promise and its deadline (net of their
# reversals: data/promise_payments.py).
_PAID = (
    select(_p.c.id, func.sum(_lines.c.amount_minor))
    .join(_links, _links.c.promise_id == _p.c.id)
    .join(_lines, _lines.c.invoice_id == _links.c.invoice_id)
    .where(
        _p.c.id.in_(_ids),
        _lines.c.counted_at >= _p.c.created_at,
        _lines.c.counted_at <= _p.c.deadline_at,
    )
    .group_by(_p.c.id)
)
_earlier = _p.alias("earlier")
# What the earlier, still standing instalments of the same plan promised.
_EARLIER = (
    select(_p.c.id, func.sum(_earlier.c.amount_minor))
    .join(_earlier, _earlier.c.plan_id == _p.c.plan_id)
    .where(
        _p.c.id.in_(_ids),
        _earlier.c.instalment < _p.c.instalment,
        _earlier.c.state.not_in(_STANDING),
    )
    .group_by(_p.c.id)
)
_JUDGE = (
    update(_p)
    .where(_p.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        paid_minor=bindparam("b_paid"),
        judged_at=bindparam("b_now"),
        version=_p.c.version + 1,
    )
)
_INVOICES = select(_links.c.promise_id, _links.c.invoice_id).where(_links.c.promise_id.in_(_ids))
_LEVELS = (
    select(_links.c.invoice_id, func.count())
    .join(_p, _p.c.id == _links.c.promise_id)
    .where(_links.c.invoice_id.in_(_ids), _p.c.state == PromiseState.BROKEN.value)
    .group_by(_links.c.invoice_id)
)
_CUSTOMERS = select(_c.c.id, _c.c.bankruptcy, _c.c.in_litigation).where(_c.c.id.in_(_ids))
_EVENTS = insert(PromiseEventRow.__table__)
_OUTBOX = insert(OutboxEventRow.__table__)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[DuePromise]:
    rows = await session.execute(_CLAIM, {"now": now, "limit": limit})
    return [DuePromise._make(r) for r in rows]


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(_NEXT_DUE)


async def _sums(session: AsyncSession, stmt, ids: list[str]) -> dict[str, int]:
    return {i: int(total or 0) for i, total in await session.execute(stmt, {"ids": ids})}


async def paid(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    return await _sums(session, _PAID, ids)


async def earlier_instalments(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    return await _sums(session, _EARLIER, ids)


async def invoices_of(session: AsyncSession, ids: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {i: [] for i in ids}
    for promise_id, invoice_id in await session.execute(_INVOICES, {"ids": ids}):
        grouped[promise_id].append(invoice_id)
    return grouped


async def broken_levels(session: AsyncSession, invoice_ids: list[str]) -> dict[str, int]:
    """Invoice id -> its promise level (broken promises on it), as this transaction sees it."""
    return await _sums(session, _LEVELS, sorted(set(invoice_ids)))


async def customer_flags(session: AsyncSession, customer_ids: list[str]) -> dict[str, Row]:
    return {r.id: r for r in await session.execute(_CUSTOMERS, {"ids": sorted(set(customer_ids))})}


async def write(
    session: AsyncSession,
    judgements: list[dict],
    events: list[dict],
    outbox: list[dict],
) -> None:
    """One statement per table; `judgements` are {b_id, b_state, b_paid, b_now} in id order."""
    if judgements:
        await session.execute(_JUDGE, judgements)
        await session.execute(_EVENTS, events)
    if outbox:
        await session.execute(_OUTBOX, outbox)
