"""Queries of the disputes service. Rows in, rows out; a missing row is NotFound here."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, column, delete, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.db.driver_reads import fetch_rows
from common.db.query import apply_filter, apply_order_and_page
from common.errors import NotFound
from common.listing import Page, Term
from services.disputes.data import reads
from services.disputes.data.loading import load_collections
from services.disputes.data.models import (
    CalendarRow,
    ClockRow,
    DisputeItemRow,
    DisputeRow,
    DisputeTeamRow,
    HistoryRow,
    MilestoneRow,
    OutboxEventRow,
    ReasonCodeRow,
    RootCauseRow,
    SlaPolicyRow,
)
from services.disputes.data.reads import Record, read_cases
from services.disputes.data.sweep import Writes
from services.disputes.domain.policies import Policy, Target, TimeUnit

# What to load with a case: collection names (data/loading.py: one query each for a whole batch
# of cases).
FULL = ("items", "clocks", "notes", "evidence")
WORK = ("items", "clocks")

DISPUTE_COLUMNS = {
    "status": DisputeRow.status,
    "customer": DisputeRow.customer_id,
    "assignee": DisputeRow.assignee,
    "reason": DisputeRow.reason_code,
    "root_cause": DisputeRow.root_cause_code,
    "priority": DisputeRow.priority,
    "sla_state": DisputeRow.sla_state,
    "due_time": DisputeRow.due_at,
    "create_time": DisputeRow.created_at,
    "update_time": DisputeRow.updated_at,
}
ORDER_COLUMNS = {**DISPUTE_COLUMNS, "priority": DisputeRow.priority_rank}
# The same, as `disputes` table columns (the reads for display are Core statements).
READ_COLUMNS = {
    "id": DisputeRow.__table__.c.id,
    **{field: DisputeRow.__table__.c[column.key] for field, column in DISPUTE_COLUMNS.items()},
}


def _missing(label: str, key: str) -> NotFound:
    return NotFound(f"{label} {key} does not exist", metadata={"resource": label})


def missing_dispute(dispute_id: str) -> NotFound:
    return _missing("dispute", dispute_id)


async def get_dispute(
    session: AsyncSession, dispute_id: str, *, lock: bool = False, options: Sequence[str] = FULL
) -> DisputeRow:
    stmt = select(DisputeRow).where(DisputeRow.id == dispute_id)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise missing_dispute(dispute_id)
    await load_collections(session, [row], options)
    return row


def escalated_to(team):
    """SQL condition: the case (a `disputes` row) was escalated to `team` (a value or a bound
    parameter)."""
    teams = DisputeTeamRow.__table__.c
    return exists().where(teams.dispute_id == DisputeRow.__table__.c.id, teams.team == team)


async def dispute_team(session: AsyncSession, dispute_id: str, team: str) -> DisputeTeamRow | None:
    return await session.get(DisputeTeamRow, (dispute_id, team))


async def read_dispute(session, dispute_id: str, *, team: str | None) -> Record:
    """A case for display (GetDispute), if `team` (None: every case) may see it."""
    stmt = _read_statement((("id", "="),), None, team is not None)
    found = await read_cases(session, stmt, {"v0": dispute_id, "team": team})
    if not found:
        raise missing_dispute(dispute_id)
    return found[0]


async def list_disputes(
    session, terms: list[Term], order, page: Page, *, team: str | None
) -> list[Record]:
    """A page of cases for display, only those `team` may see (None: every case)."""
    shape = tuple((t.field, t.op) for t in terms)
    stmt = _read_statement(shape, order, team is not None)
    params = {f"v{n}": t.value for n, t in enumerate(terms)}
    params.update(team=team, offset=page.offset, size=page.size)
    return await read_cases(session, stmt, params)


@functools.lru_cache(maxsize=256)
def _read_statement(shape: tuple[tuple[str, str], ...], order, scoped: bool):
    """The one statement that reads a page of cases for display (services/disputes/reads.py),
    built once per filter shape (field, operator), ordering and team scope; values are bound."""
    cases, items = reads.CASES.c, DisputeItemRow.__table__.c
    terms = [Term(field, op, bindparam(f"v{n}")) for n, (field, op) in enumerate(shape)]
    page = apply_filter(select(cases), [t for t in terms if t.field != "invoice"], READ_COLUMNS)
    for term in terms:
        if term.field == "invoice":
            page = page.where(
                exists().where(items.dispute_id == cases.id, items.invoice_id == term.value)
            )
    if scoped:
        page = page.where(escalated_to(bindparam("team")))
    keys = []
    if order is not None:
        field, desc = order
        keys = [(ORDER_COLUMNS[field].key, desc), ("id", desc)]
        page = page.order_by(*(cases[k].desc() if d else cases[k] for k, d in keys))
        page = page.offset(bindparam("offset")).limit(bindparam("size"))
    return reads.read_statement(page, keys)


async def history(session, dispute_id: str, page: Page) -> list[HistoryRow]:
    stmt = (
        select(HistoryRow)
        .where(HistoryRow.dispute_id == dispute_id)
        .order_by(HistoryRow.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return list((await session.execute(stmt)).scalars().all())


# One statement for all of a case's invoices; PostgreSQL evaluates a volatile output expression
# after the ORDER BY's sort, so the locks are taken in key order.
_LOCK_INVOICES = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) AS locked "
    "FROM unnest(CAST(:keys AS TEXT[])) AS key ORDER BY key"
).columns(column("locked"))
_items = DisputeItemRow.__table__.c
_DISPUTED = (
    select(_items.invoice_id, func.sum(_items.still_minor))
    .where(_items.invoice_id.in_(bindparam("ids", expanding=True)))
    .group_by(_items.invoice_id)
)


async def lock_invoices(session: AsyncSession, invoice_ids: list[str]) -> None:
    """Serialises intake per invoice so two cases cannot both take its last collectible amount.
    PostgreSQL: transaction-scoped advisory locks, in a fixed order (no deadlock); SQLite already
    runs one writer at a time."""
    if session.bind.dialect.name != "postgresql":
        return
    keys = sorted({f"disputes.invoice:{invoice_id}" for invoice_id in invoice_ids})
    await fetch_rows(await session.connection(), _LOCK_INVOICES, {"keys": keys})


async def disputed_here(session: AsyncSession, invoice_ids: list[str]) -> dict[str, int]:
    """What this service's cases still dispute per invoice (resolved, withdrawn and voided cases
    dispute nothing: their still-disputed amounts are zero)."""
    rows = await fetch_rows(await session.connection(), _DISPUTED, {"ids": invoice_ids})
    return {invoice_id: int(total or 0) for invoice_id, total in rows}


def _csv(value: str) -> frozenset[str]:
    return frozenset(v for v in value.split(",") if v)


def policy_of(row: SlaPolicyRow) -> Policy:
    return Policy(
        id=row.id,
        clock=row.clock_kind,
        target=Target(row.target_value, TimeUnit(row.target_unit)),
        reason_codes=_csv(row.reason_codes),
        priorities=_csv(row.priorities),
        risk_classes=_csv(row.risk_classes),
        amount_currency=row.amount_currency,
        min_amount_minor=row.min_amount_minor,
        max_amount_minor=row.max_amount_minor,
        warning_percents=tuple(int(p) for p in row.warning_percents.split(",") if p),
        calendar_id=row.calendar_id,
        precedence=row.precedence,
        active=row.active,
        escalating=_csv(row.escalating_milestones),
    )


async def active_policies(session: AsyncSession) -> list[Policy]:
    rows = await session.execute(select(SlaPolicyRow).where(SlaPolicyRow.active.is_(True)))
    return [policy_of(r) for r in rows.scalars()]


async def escalating_milestones(
    session: AsyncSession, policy_ids: set[str]
) -> dict[str, frozenset[str]]:
    """Policy id -> the milestones that raise an escalation when they fire."""
    if not policy_ids:
        return {}
    rows = await session.execute(
        select(SlaPolicyRow.id, SlaPolicyRow.escalating_milestones).where(
            SlaPolicyRow.id.in_(policy_ids)
        )
    )
    return {policy_id: _csv(names) for policy_id, names in rows}


async def reason_code(session: AsyncSession, code: str) -> ReasonCodeRow | None:
    return await session.get(ReasonCodeRow, code)


async def root_cause(session: AsyncSession, code: str) -> RootCauseRow | None:
    return await session.get(RootCauseRow, code)


async def owning_teams(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """Root cause code -> owning team (the `team` of SLA metrics)."""
    if not codes:
        return {}
    rows = await session.execute(
        select(RootCauseRow.code, RootCauseRow.owning_team).where(RootCauseRow.code.in_(codes))
    )
    return dict(rows.all())


async def get_by_key(session: AsyncSession, model, key: str, label: str, *, lock: bool = False):
    stmt = select(model).where(model.__mapper__.primary_key[0] == key)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise _missing(label, key)
    return row


async def history_of(session: AsyncSession, dispute_id: str) -> list[HistoryRow]:
    """Every history row of a case, oldest first."""
    stmt = select(HistoryRow).where(HistoryRow.dispute_id == dispute_id).order_by(HistoryRow.id)
    return list((await session.execute(stmt)).scalars())


_REASON_ROWS = select(ReasonCodeRow.__table__)  # plain rows: readable on a session or a connection


async def reason_rows(unit: AsyncSession | AsyncConnection) -> dict[str, Row]:
    """Every reason code's row (code, active, requires_note, …) by code."""
    return {row.code: row for row in await unit.execute(_REASON_ROWS)}


async def reason_codes(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(ReasonCodeRow.code))).scalars())


async def customer_calendar_id(session: AsyncSession, customer_id: str) -> str | None:
    """The id of the customer's own calendar, if they have one."""
    return await session.scalar(
        select(CalendarRow.id).where(CalendarRow.customer_id == customer_id)
    )


async def cases_with_live_clocks(session: AsyncSession, condition) -> list[str]:
    """Ids (in order) of the cases with a running or paused clock matching `condition` (a
    ClockRow condition: of a policy, of a calendar)."""
    stmt = select(ClockRow.dispute_id).where(condition, ClockRow.status.in_(("RUNNING", "PAUSED")))
    return sorted(set((await session.execute(stmt)).scalars()))


async def delete_unfired_milestones(session: AsyncSession, clock_id: str) -> None:
    """An ORM-enabled DELETE (the session's own milestone objects are synchronised with it):
    the unit of work flushes first, so plans made earlier in the transaction go too."""
    await session.flush()
    await session.execute(
        delete(MilestoneRow).where(
            MilestoneRow.clock_id == clock_id, MilestoneRow.fired_at.is_(None)
        )
    )


async def lock_due_milestones(
    session: AsyncSession, dispute_id: str, now: datetime
) -> list[MilestoneRow]:
    """The case's milestones due by `now` and not fired, locked FOR UPDATE: this waits for a
    sweeper pass that claimed one (and skipped the case, which the caller holds), then reads each
    row as committed, so one that pass fired is left out."""
    stmt = (
        select(MilestoneRow)
        .where(
            MilestoneRow.dispute_id == dispute_id,
            MilestoneRow.fired_at.is_(None),
            MilestoneRow.due_at <= now,
        )
        .order_by(MilestoneRow.due_at, MilestoneRow.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def save_firings(session: AsyncSession, writes: Writes, now: datetime) -> None:
    """A command's firings (data/sweep.py's Writes) through the unit of work: the milestones,
    clocks and case are the session's objects, loaded and locked by the command (`get` finds
    them without a query); the history rows and escalation events are added as its rows."""
    for milestone_id in writes.fired:
        (await session.get_one(MilestoneRow, milestone_id)).fired_at = now
    for clock_id, flags in writes.flags.items():
        (await session.get_one(ClockRow, clock_id)).fired = flags
    for case_id, state in writes.states.items():
        (await session.get_one(DisputeRow, case_id)).sla_state = state
    session.add_all([HistoryRow(**values) for values in writes.history])
    session.add_all([OutboxEventRow(**values) for values in writes.outbox])


async def open_cases_by_team(
    session: AsyncSession, statuses: tuple[str, ...]
) -> dict[tuple[str, str], int]:
    """(status, owning team or "") -> how many cases (the CASES_OPEN gauge): a GROUP BY on the
    status index."""
    team = func.coalesce(RootCauseRow.owning_team, "")
    groups = await session.execute(
        select(DisputeRow.status, team, func.count())
        .outerjoin(RootCauseRow, RootCauseRow.code == DisputeRow.root_cause_code)
        .where(DisputeRow.status.in_(statuses))
        .group_by(DisputeRow.status, team)
    )
    return {(status, owner): n for status, owner, n in groups.all()}


async def oldest_unfired_due(session: AsyncSession, now: datetime) -> datetime | None:
    """The earliest due time of a milestone due and not fired (the sweeper's lag): a MIN on the
    partial index of unfired milestones."""
    return await session.scalar(
        select(func.min(MilestoneRow.due_at)).where(
            MilestoneRow.fired_at.is_(None), MilestoneRow.due_at <= now
        )
    )


_CALENDAR_INDEX = select(CalendarRow.id, CalendarRow.customer_id, CalendarRow.version)


async def calendar_index(session: AsyncSession) -> list[Row]:
    """(id, customer id, version) of every calendar: one narrow query, however many."""
    return list((await session.execute(_CALENDAR_INDEX)).all())


async def calendars_by_id(conn: AsyncSession | AsyncConnection, ids: set[str]) -> list[Row]:
    """Calendar rows (their columns as attributes, nothing tracked), from a session or a display
    read's connection."""
    calendars = CalendarRow.__table__
    return list(await conn.execute(select(calendars).where(calendars.c.id.in_(ids))))


async def list_rows(session, model, columns, terms: list[Term], order, page: Page, tiebreak):
    stmt = apply_filter(select(model), terms, columns)
    stmt = apply_order_and_page(stmt, order, columns, tiebreak, page)
    return list((await session.execute(stmt)).scalars().all())
