"""A case as a use case returns it: the rows, and each current clock read at `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.sla.clock import Clock
from services.disputes.data.models import ClockRow, DisputeRow
from services.disputes.domain import milestones
from services.disputes.service import clock_rows
from services.disputes.service.calendars import CalendarBook, versions_of


@dataclass(frozen=True)
class ClockView:
    row: ClockRow
    clock: Clock
    reading: milestones.ClockReading
    fired: tuple[str, ...]


@dataclass(frozen=True)
class DisputeView:
    case: DisputeRow
    clocks: tuple[ClockView, ...]


async def view_of(
    session: AsyncSession | AsyncConnection, book: CalendarBook, case: DisputeRow, now: datetime
) -> DisputeView:
    return (await views_of(session, book, [case], now))[0]


async def views_of(
    session: AsyncSession | AsyncConnection,
    book: CalendarBook,
    cases: list[DisputeRow],
    now: datetime,
):
    rows = {c.id: clock_rows.current(c.clocks) for c in cases}
    clocks = [r for rs in rows.values() for r in rs]
    calendars = await book.load(session, {r.calendar_id for r in clocks}, versions_of(clocks))
    result = []
    for case in cases:
        views = []
        for row in rows[case.id]:
            clock = clock_rows.to_clock(row)
            reading = milestones.read(clock, clock_rows.counting(row, calendars, book.always), now)
            views.append(ClockView(row, clock, reading, tuple(clock_rows.fired(row))))
        result.append(DisputeView(case, tuple(views)))
    return result
