"""Display reads of the accounts reports (docs/reports.md): Core statements built once, every
value a bound parameter, one record type each.

"Open on D" is what the aging means by it (data/aging_sql.py): an invoice dated on or before D,
not closed by D, its open and held amounts rolled back by the allocations and hold movements dated
after D. The aging buckets are data: bucket i holds the items with days past due above i of the
bounds, counted in SQL as Σ (due_date < D − bound) over up to MAX_BOUNDS cut-off dates, the unused
ones set to a date before any invoice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import BigInteger, Date, Integer, String, bindparam, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.accounts.data.collections_models import AssignmentRow
from services.accounts.data.dunning_models import LegalCaseRow
from services.accounts.data.models import AllocationRow, CustomerRow, HoldMovementRow, InvoiceRow
from services.accounts.domain.legal import LegalState


@asynccontextmanager
async def connection(db) -> AsyncIterator[AsyncConnection]:
    """A reading connection for report statements, planned for their values at every run.

    A report statement runs as a prepared statement; after five runs PostgreSQL may switch it to
    a generic plan, which cannot drop the scope test for "all" nor size a date range, and a
    report over a million invoices then takes three times as long (aging by collector 1.2 s →
    3.4 s, the daily sales 0.25 s → 1.2 s). Custom plans cost a millisecond of planning."""
    async with db.reading_connection() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            await conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
        try:
            yield conn
        finally:
            if postgres:  # the connection returns to the pool as it came
                await conn.exec_driver_sql("RESET plan_cache_mode")


MAX_BOUNDS = 23  # AgingBuckets allows 24 buckets: 23 upper bounds
NEVER = date(1, 1, 1)  # a cut-off no due date is before
SCOPE_ALL, SCOPE_COLLECTOR, SCOPE_TEAM, SCOPE_LEGAL = "all", "collector", "team", "legal"

_invoices, _allocations, _holds = (
    InvoiceRow.__table__,
    AllocationRow.__table__,
    HoldMovementRow.__table__,
)
_customers, _assignments = CustomerRow.__table__, AssignmentRow.__table__
_on = bindparam("on", type_=Date)
_scope = bindparam("scope", type_=String)
_scope_value = bindparam("scope_value", type_=String)
_cutoffs = [bindparam(f"cutoff_{i}", type_=Date) for i in range(MAX_BOUNDS)]


def after_on(invoice_id, amount, dated):
    """Per invoice, the ledger's amounts dated after D (bigint: keep the arithmetic integer)."""
    return (
        select(invoice_id, cast(func.sum(amount), BigInteger).label("minor"))
        .where(dated > _on)
        .group_by(invoice_id)
        .subquery()
    )


def _open_items():
    allocated = after_on(
        _allocations.c.invoice_id, _allocations.c.amount_minor, _allocations.c.applied_date
    )
    held = after_on(_holds.c.invoice_id, _holds.c.delta_minor, _holds.c.occurred_on)
    open_minor = _invoices.c.open_minor + func.coalesce(allocated.c.minor, 0)
    return (
        select(
            _invoices.c.customer_id,
            _invoices.c.currency,
            _invoices.c.due_date,
            open_minor.label("open_minor"),
            (_invoices.c.held_minor - func.coalesce(held.c.minor, 0)).label("held_minor"),
            func.coalesce(_assignments.c.collector, "").label("collector"),
            func.coalesce(_assignments.c.team, "").label("team"),
        )
        .outerjoin(allocated, allocated.c.invoice_id == _invoices.c.id)
        .outerjoin(held, held.c.invoice_id == _invoices.c.id)
        .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
        .where(
            _invoices.c.invoice_date <= _on,
            or_(_invoices.c.closed_date.is_(None), _invoices.c.closed_date > _on),
            open_minor > 0,
            visible(_assignments, _invoices.c.customer_id),
        )
        .subquery("items")
    )


_legal_cases = LegalCaseRow.__table__
_WITH_LEGAL = select(_legal_cases.c.customer_id).where(
    _legal_cases.c.state != LegalState.CLOSED.value
)


def visible(assignments, customer):
    """The caller's scope: everything, one collector's customers, one team's, or (Legal) the
    customers with an active legal case; `customer` is the column the assignments join on."""
    return or_(
        _scope == SCOPE_ALL,
        (_scope == SCOPE_COLLECTOR) & (assignments.c.collector == _scope_value),
        (_scope == SCOPE_TEAM) & (assignments.c.team == _scope_value),
        (_scope == SCOPE_LEGAL) & customer.in_(_WITH_LEGAL),
    )


def aging_bucket(due_date):
    """The bucket index of a due date: how many of the cut-offs (as-of − bound) it is before."""
    return sum(
        (case((due_date < cutoff, 1), else_=0) for cutoff in _cutoffs[1:]),
        case((due_date < _cutoffs[0], 1), else_=0),
    )


def _aged_items():
    items = _open_items()
    bucket = aging_bucket(items.c.due_date)
    return (
        select(
            items.c.customer_id,
            _customers.c.display_name,
            items.c.collector,
            items.c.team,
            items.c.currency,
            cast(bucket, Integer).label("bucket"),
            items.c.open_minor,
            items.c.held_minor,
        )
        .join(_customers, _customers.c.id == items.c.customer_id)
        .subquery("aged")
    )


class AgingCell(NamedTuple):
    """One (group, currency, bucket) sum; rows arrive ordered by group, currency, bucket."""

    group_id: str  # customer id, or collector
    group_name: str  # customer display name, or team
    collector: str
    currency: str
    bucket: int  # index into the buckets, 0 = the first
    open_minor: int
    held_minor: int
    invoices: int


_aged = _aged_items()
_AGING_BY_CUSTOMER = (
    select(
        _aged.c.customer_id,
        _aged.c.display_name,
        _aged.c.collector,
        _aged.c.currency,
        _aged.c.bucket,
        cast(func.sum(_aged.c.open_minor), BigInteger),
        cast(func.sum(_aged.c.held_minor), BigInteger),
        cast(func.count(), BigInteger),
    )
    .group_by(
        _aged.c.customer_id,
        _aged.c.display_name,
        _aged.c.collector,
        _aged.c.currency,
        _aged.c.bucket,
    )
    .order_by(_aged.c.display_name, _aged.c.customer_id, _aged.c.currency, _aged.c.bucket)
)
_AGING_BY_COLLECTOR = (
    select(
        _aged.c.collector,
        _aged.c.team,
        _aged.c.collector,
        _aged.c.currency,
        _aged.c.bucket,
        cast(func.sum(_aged.c.open_minor), BigInteger),
        cast(func.sum(_aged.c.held_minor), BigInteger),
        cast(func.count(), BigInteger),
    )
    .group_by(_aged.c.collector, _aged.c.team, _aged.c.currency, _aged.c.bucket)
    .order_by(_aged.c.collector, _aged.c.team, _aged.c.currency, _aged.c.bucket)
)


def scoped(scope: tuple[str, str]) -> dict[str, str]:
    return {"scope": scope[0], "scope_value": scope[1]}


def aging_parameters(on: date, bounds: tuple[int, ...], scope: tuple[str, str]) -> dict:
    if len(bounds) > MAX_BOUNDS:
        raise ValueError(f"at most {MAX_BOUNDS} bucket bounds")
    cutoffs = [on - timedelta(days=b) for b in bounds] + [NEVER] * (MAX_BOUNDS - len(bounds))
    return {
        "on": on,
        **scoped(scope),
        **{f"cutoff_{i}": cutoff for i, cutoff in enumerate(cutoffs)},
    }


async def aging_cells(
    conn: AsyncConnection,
    on: date,
    bounds: tuple[int, ...],
    scope: tuple[str, str],
    *,
    by_collector: bool,
) -> AsyncIterator[AgingCell]:
    """The open amounts on `on` per customer (or per collector and team), currency and bucket of
    the upper day bounds `bounds`."""
    statement = _AGING_BY_COLLECTOR if by_collector else _AGING_BY_CUSTOMER
    # One row per group, currency and bucket, however many invoices: fetched whole (a server-side
    # cursor would need a transaction, which display reads do not open).
    for row in await conn.execute(statement, aging_parameters(on, bounds, scope)):
        yield AgingCell(*row)


class ArTotals(NamedTuple):
    """Per currency, the AR open at the end of a day: all of it, the part not yet due, the part
    more than 90 days past due."""

    currency: str
    total_minor: int
    current_minor: int
    over_90_minor: int


_items = _open_items()
_over_90_cutoff = bindparam("over_90_cutoff", type_=Date)
_AR_TOTALS = (
    select(
        _items.c.currency,
        cast(func.sum(_items.c.open_minor), BigInteger),
        cast(func.sum(case((_items.c.due_date >= _on, _items.c.open_minor), else_=0)), BigInteger),
        cast(
            func.sum(case((_items.c.due_date < _over_90_cutoff, _items.c.open_minor), else_=0)),
            BigInteger,
        ),
    )
    .group_by(_items.c.currency)
    .order_by(_items.c.currency)
)


async def ar_totals(conn: AsyncConnection, on: date, scope: tuple[str, str]) -> dict[str, ArTotals]:
    """AR at the end of `on`; current = due on or after `on`, over 90 = due before `on` − 90."""
    parameters = {"on": on, "over_90_cutoff": on - timedelta(days=90), **scoped(scope)}
    rows = await conn.execute(_AR_TOTALS, parameters)
    return {row[0]: ArTotals(*row) for row in rows}


class DailySales(NamedTuple):
    currency: str
    invoice_date: date
    amount_minor: int


_first, _last = bindparam("first", type_=Date), bindparam("last", type_=Date)
_DAILY_SALES = (
    select(
        _invoices.c.currency,
        _invoices.c.invoice_date,
        cast(func.sum(_invoices.c.amount_minor), BigInteger),
    )
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .where(
        _invoices.c.invoice_date >= _first,
        _invoices.c.invoice_date <= _last,
        visible(_assignments, _invoices.c.customer_id),
    )
    .group_by(_invoices.c.currency, _invoices.c.invoice_date)
    .order_by(_invoices.c.currency, _invoices.c.invoice_date)
)


async def daily_sales(
    conn: AsyncConnection, first: date, last: date, scope: tuple[str, str]
) -> list[DailySales]:
    """Credit sales (invoices by invoice date) per currency and day in [first, last]."""
    parameters = {"first": first, "last": last, **scoped(scope)}
    return [DailySales(*row) for row in await conn.execute(_DAILY_SALES, parameters)]


class Watermark(NamedTuple):
    """What a figure was read from: the ledger's row counts and latest writes."""

    invoices: int
    invoices_latest: datetime | None
    allocations: int
    allocations_latest: datetime | None
    hold_movements: int

    def text(self) -> str:
        def at(instant: datetime | None) -> str:
            return instant.isoformat().replace("+00:00", "Z") if instant else "-"

        return (
            f"invoices={self.invoices}@{at(self.invoices_latest)};"
            f"allocations={self.allocations}@{at(self.allocations_latest)};"
            f"hold_movements={self.hold_movements}"
        )


_WATERMARK = select(
    select(func.count()).select_from(_invoices).scalar_subquery(),
    select(func.max(_invoices.c.created_at)).scalar_subquery(),
    select(func.count()).select_from(_allocations).scalar_subquery(),
    select(func.max(_allocations.c.created_at)).scalar_subquery(),
    select(func.count()).select_from(_holds).scalar_subquery(),
)


async def watermark(conn: AsyncConnection) -> Watermark:
    return Watermark(*(await conn.execute(_WATERMARK)).one())
