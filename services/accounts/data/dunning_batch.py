"""A dunning run's statements, set-based: per batch of customers a fixed number of statements,
whatever its size. The claim locks the customers with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite
runs one writer at a time), so runs on several replicas share the customers, and each batch reads
the amounts and records its notices in the one transaction that holds the claim."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Insert

from common.db.id_set import in_ids
from services.accounts.data.collections_models import PromiseRow
from services.accounts.data.dunning_models import (
    DunningDecisionRow,
    LegalCaseRow,
    LegalEventRow,
    LegalSnapshotLineRow,
    NoticeLineRow,
    NoticeRow,
)
from services.accounts.data.dunning_rows import table
from services.accounts.data.models import (
    CreditNoteRow,
    CustomerRow,
    InvoiceRow,
    OutboxEventRow,
    PaymentRow,
)
from services.accounts.data.rows import Row
from services.accounts.domain.dunning import ChaseCounts
from services.accounts.domain.ladder import Ladder
from services.accounts.domain.legal import LegalState
from services.accounts.domain.promises import PromiseState

_c, _inv = CustomerRow.__table__, InvoiceRow.__table__
_pay, _cn, _n, _nl = (
    PaymentRow.__table__,
    CreditNoteRow.__table__,
    NoticeRow.__table__,
    NoticeLineRow.__table__,
)
_p = PromiseRow.__table__


class ClaimedCustomer(NamedTuple):
    id: str
    display_name: str
    bankruptcy: bool
    in_litigation: bool
    dunning_block: bool


def _claim(named: bool):
    stmt = (
        select(_c.c.id, _c.c.display_name, _c.c.bankruptcy, _c.c.in_litigation,
               _c.c.dunning_block)
        .where(
            _c.c.id > bindparam("after"),
            or_(_c.c.dunned_on.is_(None), _c.c.dunned_on < bindparam("before")),
        )
        .order_by(_c.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    return stmt.where(_c.c.id.in_(bindparam("named", expanding=True))) if named else stmt


_CLAIM, _CLAIM_NAMED = _claim(False), _claim(True)


async def claim(
    session: AsyncSession,
    *,
    after: str,
    before: date,
    limit: int,
    named: Sequence[str] | None,
) -> list[ClaimedCustomer]:
    """The next customers (by id, after `after`) not evaluated on a date before `before`, locked;
    those another run holds are skipped (it evaluates them)."""
    params: dict = {"after": after, "before": before, "limit": limit}
    if named is not None:
        params["named"] = list(named)
    rows = await session.execute(_CLAIM_NAMED if named is not None else _CLAIM, params)
    return [ClaimedCustomer._make(r) for r in rows]


def _chase_counts(levels: int) -> Select:
    """Per customer × currency of a batch, over its open invoices with more open than held: how
    many reached the ladder (due on or before `reach_by`), and how many reached a level above
    the highest one a notice chased them at (`next_<n>`: the last due date that has reached
    level n + 1; none past the top). Built once per ladder length, every value a parameter."""
    chased_at = (
        select(_nl.c.invoice_id, func.max(_n.c.level).label("level"))
        .select_from(_nl.join(_n, _n.c.id == _nl.c.notice_id))
        .where(in_ids(_n.c.customer_id), _nl.c.due_now_minor > 0)
        .group_by(_nl.c.invoice_id)
        .subquery("chased_at")
    )
    last = func.coalesce(chased_at.c.level, 0)
    next_due_by = case(
        *[(last == n, bindparam(f"next_{n}", type_=_inv.c.due_date.type)) for n in range(levels)],
        else_=None,
    )
    open_ = _inv.c.open_minor > _inv.c.held_minor
    counted = [
        func.sum(case((and_(open_, _inv.c.due_date <= bindparam("reach_by")), 1), else_=0)),
        func.sum(case((and_(open_, _inv.c.due_date <= next_due_by), 1), else_=0)),
    ]
    return (
        select(_inv.c.customer_id, _inv.c.currency, *counted)
        .outerjoin(chased_at, chased_at.c.invoice_id == _inv.c.id)
        .where(in_ids(_inv.c.customer_id), _inv.c.open_minor > 0)
        .group_by(_inv.c.customer_id, _inv.c.currency)
    )


_CHASE_COUNTS = {n: _chase_counts(n) for n in range(1, 16)}  # a ladder has a handful of levels
_PROMISING = (
    select(_p.c.customer_id)
    .where(in_ids(_p.c.customer_id), _p.c.state == PromiseState.OPEN.value)
    .distinct()
)


async def chase_counts(
    session: AsyncSession, customer_ids: Sequence[str], ladder: Ladder, business_date: date
) -> dict[tuple[str, str], ChaseCounts]:
    """(customer, currency) of every open invoice of these customers -> its ChaseCounts."""
    ids = list(customer_ids)
    due_by = [business_date - timedelta(days=level.offset_days) for level in ladder.levels]
    params: dict = {"ids": ids, "reach_by": due_by[0]}
    params.update({f"next_{n}": day for n, day in enumerate(due_by)})
    rows = (await session.execute(_CHASE_COUNTS[len(due_by)], params)).all()
    promising = set((await session.execute(_PROMISING, {"ids": ids})).scalars())
    return {
        (customer_id, currency): ChaseCounts(int(reached), int(fresh), customer_id in promising)
        for customer_id, currency, reached, fresh in rows
    }


class OpenInvoice(NamedTuple):
    id: str
    customer_id: str
    number: str
    invoice_date: date
    due_date: date
    currency: str
    open_minor: int
    held_minor: int


_INVOICES = (
    select(_inv.c.id, _inv.c.customer_id, _inv.c.external_number, _inv.c.invoice_date,
           _inv.c.due_date, _inv.c.currency, _inv.c.open_minor, _inv.c.held_minor)
    .where(in_ids(_inv.c.customer_id), _inv.c.open_minor > 0)
    .order_by(_inv.c.customer_id, _inv.c.currency, _inv.c.due_date, _inv.c.id)
)  # fmt: skip
# Only those that reached the ladder's first level: a decision looks at no other (in a real
# book most open invoices are not yet due).
_REACHED = _INVOICES.where(_inv.c.due_date <= bindparam("reach_by"))
_NOT_REACHED = _INVOICES.where(_inv.c.due_date > bindparam("reach_by"))
_CASH = [
    select(t.c.customer_id, t.c.currency, func.sum(t.c.unallocated_minor))
    .where(in_ids(t.c.customer_id), t.c.unallocated_minor > 0)
    .group_by(t.c.customer_id, t.c.currency)
    for t in (_pay, _cn)
]
# Earlier notices with the invoices each chased (due now > 0): the levels already sent.
_PREVIOUS = (
    select(_n.c.id, _n.c.customer_id, _n.c.currency, _n.c.level, _n.c.business_date,
           _nl.c.invoice_id)
    .outerjoin(_nl, and_(_nl.c.notice_id == _n.c.id, _nl.c.due_now_minor > 0))
    .where(in_ids(_n.c.customer_id))
)  # fmt: skip


class Books(NamedTuple):
    """What a batch of customers owes and has sent, read in the run's transaction."""

    invoices: list[OpenInvoice]
    cash: dict[tuple[str, str], int]  # (customer, currency) -> unallocated payments and credits
    previous: dict[tuple[str, str], list[tuple[int, date, frozenset[str]]]]


async def open_invoices(
    session: AsyncSession | AsyncConnection,
    customer_ids: Sequence[str],
    reach_by: date | None,
    reached: bool = True,
) -> list[OpenInvoice]:
    """The customers' open invoices: all (`reach_by` None), those due on or before `reach_by`
    or (not `reached`) those due after it; by customer, currency and due date."""
    if not customer_ids:
        return []
    params: dict = {"ids": list(customer_ids), "reach_by": reach_by}
    stmt = _INVOICES if reach_by is None else _REACHED if reached else _NOT_REACHED
    # fetched whole (`all()`): iterating a result fetches row by row through the driver adapter
    return [OpenInvoice._make(r) for r in (await session.execute(stmt, params)).all()]


async def books(
    session: AsyncSession | AsyncConnection, customer_ids: Sequence[str], reach_by: date | None
) -> Books:
    """The customers' open invoices (those due by `reach_by`, or all with None), unallocated
    cash and earlier notices."""
    params = {"ids": list(customer_ids)}
    if not params["ids"]:
        return Books([], {}, {})
    invoices = await open_invoices(session, customer_ids, reach_by)
    cash: dict[tuple[str, str], int] = defaultdict(int)
    for stmt in _CASH:
        for customer_id, currency, minor in (await session.execute(stmt, params)).all():
            cash[(customer_id, currency)] += int(minor)
    notices: dict[str, tuple[str, str, int, date, set[str]]] = {}
    for notice_id, customer_id, currency, level, on, invoice_id in (
        await session.execute(_PREVIOUS, params)
    ).all():
        entry = notices.setdefault(notice_id, (customer_id, currency, level, on, set()))
        if invoice_id is not None:
            entry[4].add(invoice_id)
    previous: dict[tuple[str, str], list[tuple[int, date, frozenset[str]]]] = defaultdict(list)
    for customer_id, currency, level, on, chased in notices.values():
        previous[(customer_id, currency)].append((level, on, frozenset(chased)))
    return Books(invoices, dict(cash), dict(previous))


async def record(
    session: AsyncSession,
    *,
    business_date: date,
    customer_ids: Sequence[str],
    notices: Sequence[Row],
    notice_lines: Sequence[Row],
    decisions: Sequence[Row],
    credit_holds: Sequence[str],
    blocked: Sequence[str],
    outbox: Sequence[Row],
    legal: Sequence[tuple[Row, list[Row], Row]],
) -> None:
    """One statement per table for the batch: notices and their lines, the decisions (a day's
    re-evaluation replaces that day's), outbox events, legal cases, the customers' flags and
    the date they were evaluated on."""
    ids = list(customer_ids)
    if notices:
        await _insert_set(session, table(NoticeRow), notices)
        await _insert_set(session, table(NoticeLineRow), notice_lines)
    await session.execute(_FORGET_DECISIONS, {"day": business_date, "ids": ids})
    if decisions:
        await _insert_set(session, table(DunningDecisionRow), decisions)
    if outbox:
        await session.execute(insert(table(OutboxEventRow)), list(outbox))
    if legal:
        await session.execute(insert(table(LegalCaseRow)), [case for case, _, _ in legal])
        lines = [line for _, snapshot, _ in legal for line in snapshot]
        if lines:
            await _insert_set(session, table(LegalSnapshotLineRow), lines)
        await session.execute(insert(table(LegalEventRow)), [event for _, _, event in legal])
    await session.execute(_DUNNED, {"day": business_date, "ids": ids})
    if credit_holds:
        await session.execute(_CREDIT_HOLD, {"ids": list(credit_holds)})
    if blocked:
        await session.execute(_DUNNING_BLOCK, {"ids": list(blocked)})


_d = DunningDecisionRow.__table__
_FORGET_DECISIONS = delete(_d).where(
    _d.c.business_date == bindparam("day"), in_ids(_d.c.customer_id)
)
_DUNNED = update(_c).where(in_ids(_c.c.id)).values(dunned_on=bindparam("day"))
_CREDIT_HOLD = update(_c).where(in_ids(_c.c.id)).values(credit_hold=True)
_DUNNING_BLOCK = update(_c).where(in_ids(_c.c.id)).values(dunning_block=True)


def _unnest_insert(t: Table) -> Insert:
    """PostgreSQL: the whole batch in one INSERT … SELECT unnest(array per column), the arrays
    bound as parameters (the server takes them as a set, not as one execution per row)."""
    names = [c.name for c in t.columns]
    arrays = [func.unnest(cast(bindparam(n), ARRAY(t.c[n].type))) for n in names]
    return insert(t).from_select(names, select(*arrays))


_UNNEST = {
    t.name: _unnest_insert(t)
    for t in (table(NoticeRow), table(NoticeLineRow), table(DunningDecisionRow),
              table(LegalSnapshotLineRow))
}  # fmt: skip


async def _insert_set(session: AsyncSession, t: Table, rows: Sequence[Row]) -> None:
    """A batch's notices, their lines, decisions or snapshot lines (the bulk of a run's writes):
    one unnest statement on PostgreSQL (a multi-row VALUES would bind every value of every row
    separately), executemany elsewhere; the rows are the row builder's."""
    if (await session.connection()).dialect.name != "postgresql":
        await session.execute(insert(t), list(rows))
        return
    columns = {c.name: [row[c.name] for row in rows] for c in t.columns}
    await session.execute(_UNNEST[t.name], columns)


_ACTIVE_CASES = select(LegalCaseRow.customer_id).where(
    in_ids(LegalCaseRow.customer_id), LegalCaseRow.state != LegalState.CLOSED.value
)


async def with_active_legal_case(session: AsyncSession, customer_ids: Sequence[str]) -> set[str]:
    return set((await session.execute(_ACTIVE_CASES, {"ids": list(customer_ids)})).scalars())
