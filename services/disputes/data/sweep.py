"""The SLA sweeper's statements, set-based: a batch of due milestones costs a fixed number of
statements, whatever its size.

Claims: the due, unfired milestones, breaches first (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
runs one writer at a time), then their cases (SKIP LOCKED too: a user changing a case replaces its
milestones, and the sweeper comes back after). Reads, for the cases locked by the pass: what their
items still dispute (one grouped SELECT), their clocks with their calendars' versions (one SELECT;
the calendar book then skips calendars it has built). Writes, one statement per table: the
milestones' fired time (one UPDATE … IN), the clocks' fired flags and the cases' SLA state (one
executemany UPDATE each), the history rows and the escalation events of the firings their policy
escalates (one executemany INSERT each). Core statements built once, plain rows in and out: no ORM
object per firing; a batch's ids are one array parameter on PostgreSQL (common/db/id_set.py), not
an `IN` list rendered and bound anew for every batch. The same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.id_set import in_ids
from services.disputes.data.models import (
    CalendarRow,
    ClockRow,
    DisputeItemRow,
    DisputeRow,
    HistoryRow,
    MilestoneRow,
    OutboxEventRow,
)

_CASES, _CLOCKS, _ITEMS = DisputeRow.__table__, ClockRow.__table__, DisputeItemRow.__table__
_CALENDARS, _MILESTONES = CalendarRow.__table__, MilestoneRow.__table__

_STILL = (
    select(_ITEMS.c.dispute_id, func.sum(_ITEMS.c.still_minor))
    .where(in_ids(_ITEMS.c.dispute_id))
    .group_by(_ITEMS.c.dispute_id)
)
_CLOCKS_OF = (
    select(*_CLOCKS.c, _CALENDARS.c.version.label("calendar_version"))
    .outerjoin_from(_CLOCKS, _CALENDARS, _CALENDARS.c.id == _CLOCKS.c.calendar_id)
    .where(in_ids(_CLOCKS.c.dispute_id))
    .order_by(_CLOCKS.c.id)
)
_FIRE = update(_MILESTONES).where(in_ids(_MILESTONES.c.id)).values(fired_at=bindparam("now"))
_FLAG = update(_CLOCKS).where(_CLOCKS.c.id == bindparam("b_id")).values(fired=bindparam("b_fired"))
_STATE = (
    update(_CASES).where(_CASES.c.id == bindparam("b_id")).values(sla_state=bindparam("b_state"))
)
_HISTORY = insert(HistoryRow.__table__)
_NEXT_DUE = select(func.min(_MILESTONES.c.due_at)).where(_MILESTONES.c.fired_at.is_(None))
_DUE = select(
    _MILESTONES.c.id, _MILESTONES.c.clock_id, _MILESTONES.c.dispute_id, _MILESTONES.c.name,
    _MILESTONES.c.due_at,
).where(_MILESTONES.c.fired_at.is_(None), _MILESTONES.c.due_at <= bindparam("now"))  # fmt: skip
_FIRST = (_MILESTONES.c.due_at, _MILESTONES.c.id)
_CLAIM_DUE = _DUE.order_by(*_FIRST).limit(bindparam("limit")).with_for_update(skip_locked=True)
# The name is a literal, not a parameter: only then can PostgreSQL's generic plan of the prepared
# statement use the partial index on due breaches (ix_clock_milestones_breach_due, migration 0008).
_CLAIM_BREACHES = (
    _DUE.where(_MILESTONES.c.name == literal_column("'BREACH'"))
    .order_by(*_FIRST)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# What is due on the breaches' clocks before them (their warnings, when the sweeper is behind).
_CLAIM_OF_CLOCKS = _DUE.where(in_ids(_MILESTONES.c.clock_id, "clocks")).with_for_update(
    skip_locked=True
)
# What the sweeper reads of a case it fires on (plain rows: routing, the escalation, SLA state).
_SWEPT_CASE = [
    _CASES.c[name]
    for name in (
        "id", "title", "reason_code", "root_cause_code", "priority", "currency", "customer_id",
        "customer_bankruptcy", "customer_in_litigation", "version", "origin_traceparent",
        "sla_state",
    )
]  # fmt: skip
_TRY_LOCK = (
    select(*_SWEPT_CASE)
    .where(in_ids(_CASES.c.id))
    .order_by(_CASES.c.id)
    .with_for_update(skip_locked=True)
)
_OUTBOX = insert(OutboxEventRow.__table__)


@cache
def _record_type(columns: tuple[str, ...]) -> type:
    return namedtuple("SweptRow", columns)  # type: ignore[misc]


def _plain(result) -> Iterable[tuple]:
    """A result's rows as named tuples of its columns. The firing reads each column of its rows
    several times: a SQLAlchemy Row's attribute access costs ~0.8 µs (its __getattr__), a named
    tuple's ~30 ns; reading clock rows was 8 % of the sweeper's CPU, most of it there."""
    make = _record_type(tuple(result.keys()))._make
    return (make(row) for row in result)


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(_NEXT_DUE)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[tuple]:
    """Up to `limit` due, unfired milestones (plain rows), locked, in due order; rows another
    sweeper holds are skipped, not waited for. Breaches first: a sweeper behind its schedule (a
    burst) fires the due breaches, with whatever is due before them on their clocks, ahead of
    older warnings, so a breach reaches its team's queue in seconds however long the backlog
    of warnings. The rest of the batch is the oldest due. (A breach's warnings fire at their own
    due times, before it; only a sweeper hours behind, after an outage, finds them still due
    with it, and then a batch holds them too, beyond `limit`.)"""
    params = {"now": now, "limit": limit}
    claimed = {r.id: r for r in _plain(await session.execute(_CLAIM_BREACHES, params))}
    if claimed:
        clocks = sorted({r.clock_id for r in claimed.values()})
        for row in _plain(await session.execute(_CLAIM_OF_CLOCKS, {"now": now, "clocks": clocks})):
            claimed.setdefault(row.id, row)
    if len(claimed) < limit:
        # Rows this transaction holds come back too (SKIP LOCKED skips others' locks only): a
        # batch with breaches may be a little short, never over `limit`.
        params["limit"] = limit - len(claimed)
        for row in _plain(await session.execute(_CLAIM_DUE, params)):
            claimed.setdefault(row.id, row)
    return sorted(claimed.values(), key=lambda r: (r.due_at, r.id))


async def try_lock_disputes(session: AsyncSession, ids: set[str]) -> dict[str, tuple]:
    """The cases locked for the sweeper, as plain rows; a case someone else holds is left out
    (they will replace its milestones, or release it shortly, and the sweeper comes back)."""
    rows = await session.execute(_TRY_LOCK, {"ids": sorted(ids)})
    return {row.id: row for row in _plain(rows)}


async def still_disputed(session: AsyncSession, case_ids: list[str]) -> dict[str, int]:
    """Case id -> what its items still dispute (minor units)."""
    rows = await session.execute(_STILL, {"ids": case_ids})
    return {case_id: int(total or 0) for case_id, total in rows}


async def clocks_of(session: AsyncSession, case_ids: list[str]) -> dict[str, list[tuple]]:
    """Case id -> its clock rows (oldest first), each with its calendar's `calendar_version`."""
    grouped: dict[str, list[tuple]] = {case_id: [] for case_id in case_ids}
    for row in _plain(await session.execute(_CLOCKS_OF, {"ids": case_ids})):
        grouped[row.dispute_id].append(row)
    return grouped


@dataclass
class Writes:
    """What a set of firings writes, table by table."""

    fired: list[str] = field(default_factory=list)  # milestone ids
    flags: dict[str, str] = field(default_factory=dict)  # clock id -> fired flags ("A,B")
    states: dict[str, str] = field(default_factory=dict)  # case id -> SLA state, where it changed
    history: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)

    def merge(self, other: Writes) -> None:
        self.fired += other.fired
        self.flags.update(other.flags)
        self.states.update(other.states)
        self.history += other.history
        self.outbox += other.outbox


async def write(session: AsyncSession, w: Writes, now: datetime) -> None:
    """One statement per table (rows in id order: the same lock order in every replica)."""
    if not w.fired:
        return
    await session.execute(_FIRE, {"ids": w.fired, "now": now})
    flags = [{"b_id": k, "b_fired": v} for k, v in sorted(w.flags.items())]
    await session.execute(_FLAG, flags)
    if w.states:
        states = [{"b_id": k, "b_state": v} for k, v in sorted(w.states.items())]
        await session.execute(_STATE, states)
    await session.execute(_HISTORY, w.history)
    if w.outbox:  # only the firings their policy escalates
        await session.execute(_OUTBOX, w.outbox)
