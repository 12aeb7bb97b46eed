"""Display reads of the accounts' collections reports (docs/reports.md §12–§16): what is still to
collect per bucket, cash collected, promises, the dunning log and write-offs. Core statements
built once, every value a bound parameter, one record type each; the caller's scope is the same
filter as data/report_reads.py's."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import BigInteger, Date, Integer, bindparam, case, cast, exists, func, or_, select

from common.db.types import UtcDateTime
from services.accounts.data.collections_models import AssignmentRow, PromiseRow
from services.accounts.data.dunning_models import (
    DunningDecisionRow,
    LegalCaseRow,
    NoticeRow,
    WriteOffReasonRow,
)
from services.accounts.data.models import AllocationRow, CustomerRow, InvoiceRow
from services.accounts.data.report_reads import aging_bucket, aging_parameters, scoped, visible
from services.accounts.domain.legal import LegalState
from services.accounts.domain.promises import JUDGED, PromiseState
from services.accounts.domain.records import SourceKind

_invoices, _assignments, _customers = (
    InvoiceRow.__table__,
    AssignmentRow.__table__,
    CustomerRow.__table__,
)
_allocations, _promises, _legal = (
    AllocationRow.__table__,
    PromiseRow.__table__,
    LegalCaseRow.__table__,
)
_decisions, _notices, _reasons = (
    DunningDecisionRow.__table__,
    NoticeRow.__table__,
    WriteOffReasonRow.__table__,
)
_first, _last = bindparam("first", type_=Date), bindparam("last", type_=Date)
_collector = func.coalesce(_assignments.c.collector, "")
_team = func.coalesce(_assignments.c.team, "")

# --- what is still to collect, per bucket (today's books) ----------------------------------------

_in_legal = cast(
    case(
        (
            exists().where(
                _legal.c.customer_id == _invoices.c.customer_id,
                _legal.c.state != LegalState.CLOSED.value,
            ),
            1,
        ),
        else_=0,
    ),
    Integer,
)
# The flags that stop dunning a customer (domain/dunning.CustomerFlags), a legal case aside.
_blocked = cast(
    case(
        (
            or_(_customers.c.bankruptcy, _customers.c.in_litigation, _customers.c.dunning_block),
            1,
        ),
        else_=0,
    ),
    Integer,
)
_bucket = aging_bucket(_invoices.c.due_date)


class CollectibleCell(NamedTuple):
    """Open invoices of one collector, currency, bucket and standing: their open and held sums."""

    collector: str
    team: str
    currency: str
    bucket: int
    in_legal: int  # 1: the customer has an active legal case
    blocked: int  # 1: bankruptcy, litigation or a dunning block
    open_minor: int
    held_minor: int
    invoices: int


_COLLECTIBLE = (
    select(
        _collector,
        _team,
        _invoices.c.currency,
        _bucket,
        _in_legal,
        _blocked,
        cast(func.sum(_invoices.c.open_minor), BigInteger),
        cast(func.sum(_invoices.c.held_minor), BigInteger),
        cast(func.count(), BigInteger),
    )
    .join(_customers, _customers.c.id == _invoices.c.customer_id)
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .where(_invoices.c.open_minor > 0, visible(_assignments, _invoices.c.customer_id))
    .group_by(_collector, _team, _invoices.c.currency, _bucket, _in_legal, _blocked)
)


async def collectible_cells(
    conn, on: date, bounds: tuple[int, ...], scope: tuple[str, str]
) -> list[CollectibleCell]:
    rows = await conn.execute(_COLLECTIBLE, aging_parameters(on, bounds, scope))
    return [CollectibleCell._make(row) for row in rows]


_PROMISING_CUSTOMERS = (
    select(_promises.c.customer_id)
    .outerjoin(_assignments, _assignments.c.customer_id == _promises.c.customer_id)
    .where(
        _promises.c.state == PromiseState.OPEN.value, visible(_assignments, _promises.c.customer_id)
    )
    .distinct()
)


async def customers_with_open_promises(conn, scope: tuple[str, str]) -> list[str]:
    return [row[0] for row in await conn.execute(_PROMISING_CUSTOMERS, scoped(scope))]


class InvoicePlace(NamedTuple):
    """Where an invoice counts in the collectible aging: the keys of its CollectibleCell."""

    invoice_id: str
    collector: str
    team: str
    currency: str
    bucket: int
    in_legal: int
    blocked: int


_PLACES = (
    select(_invoices.c.id, _collector, _team, _invoices.c.currency, _bucket, _in_legal, _blocked)
    .join(_customers, _customers.c.id == _invoices.c.customer_id)
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .where(_invoices.c.id.in_(bindparam("ids", expanding=True)), _invoices.c.open_minor > 0)
)


async def invoice_places(
    conn, invoice_ids: list[str], on: date, bounds: tuple[int, ...]
) -> list[InvoicePlace]:
    if not invoice_ids:
        return []
    parameters = {**aging_parameters(on, bounds, ("all", "")), "ids": sorted(invoice_ids)}
    return [InvoicePlace._make(row) for row in await conn.execute(_PLACES, parameters)]


# --- cash collected ------------------------------------------------------------------------------

_taken_back = AllocationRow.__table__.alias("taken_back")


class CashCollected(NamedTuple):
    collector: str
    team: str
    currency: str
    collected_minor: int  # payments applied in the period, less reversals of payments in it
    invoices: int


_PAYMENT_MOVES = (
    select(
        _collector.label("collector"),
        _team.label("team"),
        _invoices.c.currency,
        _allocations.c.amount_minor,
        _invoices.c.id.label("invoice_id"),
    )
    .join(_invoices, _invoices.c.id == _allocations.c.invoice_id)
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .outerjoin(_taken_back, _taken_back.c.id == _allocations.c.source_id)
    .where(
        _allocations.c.applied_date >= _first,
        _allocations.c.applied_date <= _last,
        or_(
            _allocations.c.source_kind == SourceKind.PAYMENT.value,
            (_allocations.c.source_kind == SourceKind.REVERSAL.value)
            & (_taken_back.c.source_kind == SourceKind.PAYMENT.value),
        ),
        visible(_assignments, _invoices.c.customer_id),
    )
    .subquery("moves")
)
_CASH = (
    select(
        _PAYMENT_MOVES.c.collector,
        _PAYMENT_MOVES.c.team,
        _PAYMENT_MOVES.c.currency,
        cast(func.sum(_PAYMENT_MOVES.c.amount_minor), BigInteger),
        cast(func.count(func.distinct(_PAYMENT_MOVES.c.invoice_id)), BigInteger),
    )
    .group_by(_PAYMENT_MOVES.c.collector, _PAYMENT_MOVES.c.team, _PAYMENT_MOVES.c.currency)
    .order_by(_PAYMENT_MOVES.c.collector, _PAYMENT_MOVES.c.team, _PAYMENT_MOVES.c.currency)
)


async def cash_collected(
    conn, first: date, last: date, scope: tuple[str, str]
) -> list[CashCollected]:
    parameters = {"first": first, "last": last, **scoped(scope)}
    return [CashCollected._make(row) for row in await conn.execute(_CASH, parameters)]


# --- promises ------------------------------------------------------------------------------------


class OpenPromise(NamedTuple):
    collector: str
    currency: str
    promised_date: date
    amount_minor: int
    paid_minor: int


_OPEN_PROMISES = (
    select(
        _collector,
        _promises.c.currency,
        _promises.c.promised_date,
        _promises.c.amount_minor,
        _promises.c.paid_minor,
    )
    .outerjoin(_assignments, _assignments.c.customer_id == _promises.c.customer_id)
    .where(
        _promises.c.state == PromiseState.OPEN.value, visible(_assignments, _promises.c.customer_id)
    )
)


async def open_promises(conn, scope: tuple[str, str]) -> list[OpenPromise]:
    return [OpenPromise._make(row) for row in await conn.execute(_OPEN_PROMISES, scoped(scope))]


class JudgedPromises(NamedTuple):
    collector: str
    state: str  # KEPT, PARTIALLY_KEPT or BROKEN
    currency: str
    promises: int
    amount_minor: int


_start_at = bindparam("start_at", type_=UtcDateTime())
_end_at = bindparam("end_at", type_=UtcDateTime())
_JUDGED = (
    select(
        _collector,
        _promises.c.state,
        _promises.c.currency,
        cast(func.count(), BigInteger),
        cast(func.sum(_promises.c.amount_minor), BigInteger),
    )
    .outerjoin(_assignments, _assignments.c.customer_id == _promises.c.customer_id)
    .where(
        _promises.c.state.in_(sorted(s.value for s in JUDGED)),
        _promises.c.judged_at >= _start_at,
        _promises.c.judged_at < _end_at,
        visible(_assignments, _promises.c.customer_id),
    )
    .group_by(_collector, _promises.c.state, _promises.c.currency)
)


async def judged_promises(conn, window, scope: tuple[str, str]) -> list[JudgedPromises]:
    """Promises judged in [start, end): per collector, judgement and currency."""
    parameters = {"start_at": window[0], "end_at": window[1], **scoped(scope)}
    return [JudgedPromises._make(row) for row in await conn.execute(_JUDGED, parameters)]


# --- dunning log ---------------------------------------------------------------------------------


class DecisionCount(NamedTuple):
    outcome: str  # NOTICE or a dunning.SkipReason
    currency: str
    decisions: int


_dunned = _assignments.c.customer_id == _decisions.c.customer_id
_DECISIONS = (
    select(_decisions.c.outcome, _decisions.c.currency, cast(func.count(), BigInteger))
    .outerjoin(_assignments, _dunned)
    .where(
        _decisions.c.business_date >= _first,
        _decisions.c.business_date <= _last,
        visible(_assignments, _decisions.c.customer_id),
    )
    .group_by(_decisions.c.outcome, _decisions.c.currency)
    .order_by(_decisions.c.outcome, _decisions.c.currency)
)


async def dunning_decisions(
    conn, first: date, last: date, scope: tuple[str, str]
) -> list[DecisionCount]:
    parameters = {"first": first, "last": last, **scoped(scope)}
    return [DecisionCount._make(row) for row in await conn.execute(_DECISIONS, parameters)]


class NoticeCount(NamedTuple):
    level: int
    level_code: str
    channel: str
    currency: str
    state: str  # QUEUED, SENT or FAILED
    notices: int
    total_minor: int


_NOTICES = (
    select(
        _notices.c.level,
        _notices.c.level_code,
        _notices.c.channel,
        _notices.c.currency,
        _notices.c.state,
        cast(func.count(), BigInteger),
        cast(func.sum(_notices.c.total_minor), BigInteger),
    )
    .outerjoin(_assignments, _assignments.c.customer_id == _notices.c.customer_id)
    .where(
        _notices.c.business_date >= _first,
        _notices.c.business_date <= _last,
        visible(_assignments, _notices.c.customer_id),
    )
    .group_by(
        _notices.c.level,
        _notices.c.level_code,
        _notices.c.channel,
        _notices.c.currency,
        _notices.c.state,
    )
    .order_by(_notices.c.level, _notices.c.channel, _notices.c.currency)
)


async def dunning_notices(
    conn, first: date, last: date, scope: tuple[str, str]
) -> list[NoticeCount]:
    parameters = {"first": first, "last": last, **scoped(scope)}
    return [NoticeCount._make(row) for row in await conn.execute(_NOTICES, parameters)]


# --- write-offs ----------------------------------------------------------------------------------


class WriteOffMoves(NamedTuple):
    """A reason's write-off ledger entries in one currency: postings (positive amounts) and
    reversals (negative: the amount put back on the invoice)."""

    reason_code: str
    reason: str
    currency: str
    posted: int  # write-offs with a posting in the period
    posted_minor: int
    reversed: int
    reversed_minor: int  # positive: what the reversals put back


_entries = _allocations.c.source_kind == SourceKind.WRITE_OFF.value
_posting = _allocations.c.amount_minor > 0
_WRITE_OFFS = (
    select(
        _allocations.c.reason_code,
        func.coalesce(_reasons.c.display_name, ""),
        _invoices.c.currency,
        cast(func.count(func.distinct(case((_posting, _allocations.c.source_id)))), BigInteger),
        cast(func.sum(case((_posting, _allocations.c.amount_minor), else_=0)), BigInteger),
        cast(func.count(func.distinct(case((~_posting, _allocations.c.source_id)))), BigInteger),
        cast(func.sum(case((~_posting, -_allocations.c.amount_minor), else_=0)), BigInteger),
    )
    .join(_invoices, _invoices.c.id == _allocations.c.invoice_id)
    .outerjoin(_reasons, _reasons.c.code == _allocations.c.reason_code)
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .where(
        _entries,
        _allocations.c.applied_date >= _first,
        _allocations.c.applied_date <= _last,
        visible(_assignments, _invoices.c.customer_id),
    )
    .group_by(_allocations.c.reason_code, _reasons.c.display_name, _invoices.c.currency)
    .order_by(_allocations.c.reason_code, _invoices.c.currency)
)


async def write_off_moves(
    conn, first: date, last: date, scope: tuple[str, str]
) -> list[WriteOffMoves]:
    parameters = {"first": first, "last": last, **scoped(scope)}
    return [WriteOffMoves._make(row) for row in await conn.execute(_WRITE_OFFS, parameters)]
