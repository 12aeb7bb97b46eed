"""Display reads of the collector's day (outcome codes, promises, promise records, the customer
timeline): Core statements built once, bound parameters, one record type each."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, case, func, literal, null, select, union_all

from services.accounts.data.collections_models import (
    InteractionRow,
    OutcomeCodeRow,
    PromiseEventRow,
    PromiseInvoiceRow,
    PromiseRow,
)
from services.accounts.data.dunning_models import (
    LegalEventRow,
    NoticeRow,
    WriteOffLineRow,
    WriteOffRow,
)
from services.accounts.data.models import (
    AllocationRow,
    CustomerRow,
    HoldMovementRow,
    HoldRow,
    InvoiceRow,
    PaymentRow,
)
from services.accounts.data.promise_payments import PAID_LINES
from services.accounts.data.repository import missing
from services.accounts.domain.promises import PromiseState

_codes, _promises, _links = (
    OutcomeCodeRow.__table__,
    PromiseRow.__table__,
    PromiseInvoiceRow.__table__,
)
_customers, _invoices = CustomerRow.__table__, InvoiceRow.__table__
_page = dict(limit=bindparam("limit", type_=Integer), offset=bindparam("offset", type_=Integer))


class OutcomeCodeRecord(NamedTuple):
    code: str
    display_name: str
    requires: str
    active: bool
    created_at: datetime


OUTCOME_CODES = select(_codes).order_by(_codes.c.code)


class PromiseRecord(NamedTuple):
    id: str
    customer_id: str
    interaction_id: str | None
    plan_id: str
    instalment: int
    currency: str
    amount_minor: int
    promised_date: date
    deadline_at: datetime
    state: str
    paid_minor: int
    contact_position: int | None
    contact_text: str
    taken_by: str
    version: int
    created_at: datetime
    judged_at: datetime | None


class PromiseRead(NamedTuple):
    row: PromiseRecord
    invoice_ids: list[str]


PROMISE = select(_promises).where(_promises.c.id == bindparam("id"))
PROMISES = (
    select(_promises)
    .where(_promises.c.customer_id == bindparam("customer"))
    .order_by(_promises.c.created_at.desc(), _promises.c.instalment.desc(), _promises.c.id)
    .limit(_page["limit"])
    .offset(_page["offset"])
)
PROMISES_IN_STATE = (
    select(_promises)
    .where(
        _promises.c.customer_id == bindparam("customer"), _promises.c.state == bindparam("state")
    )
    .order_by(_promises.c.created_at.desc(), _promises.c.instalment.desc(), _promises.c.id)
    .limit(_page["limit"])
    .offset(_page["offset"])
)
INVOICES_OF_PROMISES = (
    select(_links.c.promise_id, _links.c.invoice_id)
    .where(_links.c.promise_id.in_(bindparam("ids", expanding=True)))
    .order_by(_links.c.promise_id, _links.c.invoice_id)
)
CUSTOMER_EXISTS = select(_customers.c.id).where(_customers.c.id == bindparam("customer"))
PROMISE_COUNTS = (
    select(_promises.c.state, func.count())
    .where(_promises.c.customer_id == bindparam("customer"))
    .group_by(_promises.c.state)
)
# An invoice's promise level: how many promises on it were broken.
INVOICE_LEVELS = (
    select(_links.c.invoice_id, func.count())
    .join(_promises, _promises.c.id == _links.c.promise_id)
    .where(
        _promises.c.customer_id == bindparam("customer"),
        _promises.c.state == PromiseState.BROKEN.value,
    )
    .group_by(_links.c.invoice_id)
    .order_by(_links.c.invoice_id)
)


async def outcome_codes(conn, show_inactive: bool) -> list[OutcomeCodeRecord]:
    rows = map(OutcomeCodeRecord._make, await conn.execute(OUTCOME_CODES))
    return [r for r in rows if show_inactive or r.active]


async def _customer_exists(conn, customer_id: str) -> None:
    if (await conn.execute(CUSTOMER_EXISTS, {"customer": customer_id})).first() is None:
        raise missing("customer", customer_id)


async def _with_invoices(conn, rows: list[PromiseRecord]) -> list[PromiseRead]:
    invoices: dict[str, list[str]] = {r.id: [] for r in rows}
    if rows:
        for promise_id, invoice_id in await conn.execute(
            INVOICES_OF_PROMISES, {"ids": [*invoices]}
        ):
            invoices[promise_id].append(invoice_id)
    return [PromiseRead(r, invoices[r.id]) for r in rows]


async def promise(conn, promise_id: str) -> PromiseRead:
    row = (await conn.execute(PROMISE, {"id": promise_id})).first()
    if row is None:
        raise missing("promise", promise_id)
    return (await _with_invoices(conn, [PromiseRecord._make(row)]))[0]


async def promises(
    conn, customer_id: str, state: str | None, offset: int, limit: int
) -> list[PromiseRead]:
    await _customer_exists(conn, customer_id)
    params = {"customer": customer_id, "offset": offset, "limit": limit, "state": state}
    stmt = PROMISES if state is None else PROMISES_IN_STATE
    rows = [PromiseRecord._make(r) for r in await conn.execute(stmt, params)]
    return await _with_invoices(conn, rows)


class PromiseStanding(NamedTuple):
    """A customer's promises counted by state, and each invoice's promise level."""

    counts: dict[str, int]
    invoice_levels: list[tuple[str, int]]


async def promise_standing(conn, customer_id: str) -> PromiseStanding:
    await _customer_exists(conn, customer_id)
    params = {"customer": customer_id}
    counts = {state: int(n) for state, n in await conn.execute(PROMISE_COUNTS, params)}
    levels = [(i, int(n)) for i, n in await conn.execute(INVOICE_LEVELS, params)]
    return PromiseStanding(counts, levels)


# --- the timeline: one SELECT per source, merged by UNION ALL, newest first --------------------
# Another source (dunning notices, write-offs, ...) is one more SELECT of the same seven columns.
class TimelineRecord(NamedTuple):
    occurred_at: datetime
    kind: str
    subject: str
    event: str
    amount_minor: int | None
    currency: str | None
    detail: str


_customer = bindparam("customer")
_i, _pe, _pay = InteractionRow.__table__, PromiseEventRow.__table__, PaymentRow.__table__
_alloc, _moves, _holds = AllocationRow.__table__, HoldMovementRow.__table__, HoldRow.__table__
_notices, _legal = NoticeRow.__table__, LegalEventRow.__table__
_write_offs, _wo_lines = WriteOffRow.__table__, WriteOffLineRow.__table__
_SOURCES = [
    select(
        _i.c.occurred_at.label("occurred_at"),
        literal("INTERACTION").label("kind"),
        ("interactions/" + _i.c.id).label("subject"),
        _i.c.outcome_code.label("event"),
        null().label("amount_minor"),
        null().label("currency"),
        _i.c.note.label("detail"),
    ).where(_i.c.customer_id == _customer),
    select(
        _pe.c.occurred_at,
        literal("PROMISE"),
        "promises/" + _pe.c.promise_id,
        _pe.c.state,
        _pe.c.amount_minor,
        _pe.c.currency,
        _pe.c.actor,
    ).where(_pe.c.customer_id == _customer),
    select(
        _pay.c.created_at,
        literal("PAYMENT"),
        "payments/" + _pay.c.id,
        literal("RECEIVED"),
        _pay.c.amount_minor,
        _pay.c.currency,
        _pay.c.reference,
    ).where(_pay.c.customer_id == _customer),
    select(
        _alloc.c.created_at,
        literal("ALLOCATION"),
        "invoices/" + _alloc.c.invoice_id,
        _alloc.c.source_kind,
        _alloc.c.amount_minor,
        _invoices.c.currency,
        _alloc.c.source_id,
    )
    .join(_invoices, _invoices.c.id == _alloc.c.invoice_id)
    .where(_invoices.c.customer_id == _customer),
    select(
        _moves.c.occurred_at,
        literal("HOLD"),
        "invoices/" + _moves.c.invoice_id,
        case((_moves.c.delta_minor > 0, "PLACED"), else_="RELEASED"),
        func.abs(_moves.c.delta_minor),
        _invoices.c.currency,
        _holds.c.dispute,
    )
    .join(_holds, _holds.c.id == _moves.c.hold_id)
    .join(_invoices, _invoices.c.id == _moves.c.invoice_id)
    .where(_invoices.c.customer_id == _customer),
    # dunning, write-off and Legal (issue 14)
    select(
        _notices.c.created_at,
        literal("NOTICE"),
        "notices/" + _notices.c.id,
        _notices.c.level_code,
        _notices.c.total_minor,
        _notices.c.currency,
        _notices.c.channel + " " + _notices.c.state,
    ).where(_notices.c.customer_id == _customer),
    select(
        _write_offs.c.updated_at,
        literal("WRITE_OFF"),
        "writeOffs/" + _write_offs.c.id,
        _write_offs.c.state,
        select(func.sum(_wo_lines.c.amount_minor))
        .where(_wo_lines.c.write_off_id == _write_offs.c.id)
        .scalar_subquery(),
        _write_offs.c.currency,
        _write_offs.c.reason_code,
    ).where(_write_offs.c.customer_id == _customer),
    select(
        _legal.c.occurred_at,
        literal("LEGAL"),
        "legalCases/" + _legal.c.case_id,
        _legal.c.kind,
        null(),
        null(),
        _legal.c.note,
    ).where(_legal.c.customer_id == _customer),
]
_merged = union_all(*_SOURCES).subquery("timeline")
TIMELINE = (
    select(_merged)
    .order_by(_merged.c.occurred_at.desc(), _merged.c.kind, _merged.c.subject, _merged.c.event)
    .limit(_page["limit"])
    .offset(_page["offset"])
)


async def timeline(conn, customer_id: str, offset: int, limit: int) -> list[TimelineRecord]:
    await _customer_exists(conn, customer_id)
    params = {"customer": customer_id, "offset": offset, "limit": limit}
    return [TimelineRecord._make(r) for r in await conn.execute(TIMELINE, params)]


# --- what open promises take out of the collectible figures (domain/collectible.py) ------------
_earlier = _promises.alias("earlier")
_customers_in = bindparam("customers", expanding=True)
_open = _promises.c.state == PromiseState.OPEN.value
_STANDING = (PromiseState.WITHDRAWN.value, PromiseState.CANCELLED.value)


class OpenPromiseRecord(NamedTuple):
    id: str
    amount_minor: int
    paid_minor: int  # payments on its invoices since it was taken, net of reversals
    earlier_minor: int  # what the plan's earlier standing instalments promised


OPEN_PROMISES = (
    select(
        _promises.c.id,
        _promises.c.amount_minor,
        select(func.coalesce(func.sum(PAID_LINES.c.amount_minor), 0))
        .where(
            PAID_LINES.c.invoice_id.in_(
                select(_links.c.invoice_id).where(_links.c.promise_id == _promises.c.id)
            ),
            PAID_LINES.c.counted_at >= _promises.c.created_at,
        )
        .scalar_subquery(),
        select(func.coalesce(func.sum(_earlier.c.amount_minor), 0))
        .where(
            _earlier.c.plan_id == _promises.c.plan_id,
            _earlier.c.instalment < _promises.c.instalment,
            _earlier.c.state.not_in(_STANDING),
        )
        .scalar_subquery(),
    )
    .where(_open, _promises.c.customer_id.in_(_customers_in))
    .order_by(_promises.c.deadline_at, _promises.c.id)
)


class CoveredInvoiceRecord(NamedTuple):
    promise_id: str
    invoice_id: str
    customer_id: str
    currency: str
    due_date: date
    open_minor: int
    held_minor: int


COVERED_INVOICES = (
    select(
        _links.c.promise_id,
        _invoices.c.id,
        _invoices.c.customer_id,
        _invoices.c.currency,
        _invoices.c.due_date,
        _invoices.c.open_minor,
        _invoices.c.held_minor,
    )
    .join(_promises, _promises.c.id == _links.c.promise_id)
    .join(_invoices, _invoices.c.id == _links.c.invoice_id)
    .where(_open, _promises.c.customer_id.in_(_customers_in))
)


async def open_promises(conn, customer_ids: list[str]) -> list[OpenPromiseRecord]:
    """The customers' OPEN promises, in deadline order."""
    params = {"customers": sorted(set(customer_ids))}
    return [OpenPromiseRecord._make(r) for r in await conn.execute(OPEN_PROMISES, params)]


async def covered_invoices(conn, customer_ids: list[str]) -> list[CoveredInvoiceRecord]:
    """Every (open promise, invoice it covers) pair of these customers, with its figures."""
    params = {"customers": sorted(set(customer_ids))}
    return [CoveredInvoiceRecord._make(r) for r in await conn.execute(COVERED_INVOICES, params)]


PROMISES_BY_STATE = select(_promises.c.state, func.count()).group_by(_promises.c.state)


async def promises_by_state(conn) -> dict[str, int]:
    """State -> how many promises (the settle.promises gauge)."""
    return {state: int(n) for state, n in await conn.execute(PROMISES_BY_STATE)}
