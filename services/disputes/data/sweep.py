"""The SLA sweeper's statements, set-based: a batch of due milestones costs a fixed number of
statements, whatever its size.

Reads, for the cases locked by the pass: what their items still dispute (one grouped SELECT), their
clocks with their calendars' versions (one SELECT; the calendar book then skips calendars it has
built). Writes, one statement per table: the milestones' fired time (one UPDATE … IN), the clocks'
fired flags and the cases' SLA state (one executemany UPDATE each), the history rows and the
escalation events (one executemany INSERT each). Core statements built once, plain rows in and out:
no ORM object per firing. The same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disputes.data.models import (
    CalendarRow,
    ClockRow,
    DisputeItemRow,
    DisputeRow,
    HistoryRow,
    MilestoneRow,
    OutboxEventRow,
)
from services.disputes.service.calendars import seen_versions

_CASES, _CLOCKS, _ITEMS = DisputeRow.__table__, ClockRow.__table__, DisputeItemRow.__table__
_CALENDARS, _MILESTONES = CalendarRow.__table__, MilestoneRow.__table__

_STILL = (
    select(_ITEMS.c.dispute_id, func.sum(_ITEMS.c.still_minor))
    .where(_ITEMS.c.dispute_id.in_(bindparam("ids", expanding=True)))
    .group_by(_ITEMS.c.dispute_id)
)
_CLOCKS_OF = (
    select(*_CLOCKS.c, _CALENDARS.c.version.label("calendar_version"))
    .outerjoin_from(_CLOCKS, _CALENDARS, _CALENDARS.c.id == _CLOCKS.c.calendar_id)
    .where(_CLOCKS.c.dispute_id.in_(bindparam("ids", expanding=True)))
    .order_by(_CLOCKS.c.id)
)
_FIRE = (
    update(_MILESTONES)
    .where(_MILESTONES.c.id.in_(bindparam("ids", expanding=True)))
    .values(fired_at=bindparam("now"))
)
_FLAG = update(_CLOCKS).where(_CLOCKS.c.id == bindparam("b_id")).values(fired=bindparam("b_fired"))
_STATE = (
    update(_CASES).where(_CASES.c.id == bindparam("b_id")).values(sla_state=bindparam("b_state"))
)
_HISTORY = insert(HistoryRow.__table__)
_OUTBOX = insert(OutboxEventRow.__table__)


async def still_disputed(session: AsyncSession, case_ids: list[str]) -> dict[str, int]:
    """Case id -> what its items still dispute (minor units)."""
    rows = await session.execute(_STILL, {"ids": case_ids})
    return {case_id: int(total or 0) for case_id, total in rows}


async def clocks_of(session: AsyncSession, case_ids: list[str]) -> dict[str, list[Row]]:
    """Case id -> its clock rows (oldest first), noting the calendar versions read."""
    grouped: dict[str, list[Row]] = {case_id: [] for case_id in case_ids}
    versions = {}
    for row in await session.execute(_CLOCKS_OF, {"ids": case_ids}):
        grouped[row.dispute_id].append(row)
        if row.calendar_version is not None:
            versions[row.calendar_id] = row.calendar_version
    seen_versions(session, versions)
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
    await session.execute(_OUTBOX, w.outbox)
