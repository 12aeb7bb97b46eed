"""Business calendars loaded from their rows, built once per (id, version) and kept: building one
reads the holidays package, which is too slow to repeat for every clock of every listed case."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sla.calendar import BusinessCalendar
from services.disputes.domain.policies import CalendarSpec
from services.disputes.models import CalendarRow

MAX_CACHED = 256


def spec_of(row: CalendarRow) -> CalendarSpec:
    hours = json.loads(row.hours) if row.hours else None
    return CalendarSpec(
        id=row.id,
        time_zone=row.time_zone,
        hours={int(d): [tuple(i) for i in spans] for d, spans in hours.items()} if hours else None,
        country=row.country_code or None,
        subdivision=row.subdivision or None,
        extra_holidays=_dates(row.extra_holidays),
        extra_working_days=_dates(row.extra_working_days),
        customer_id=row.customer_id,
        team=row.team or None,
        version=row.version,
        display_name=row.display_name,
    )


def _dates(text: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(d) for d in text.split(",") if d)


class CalendarBook:
    def __init__(self) -> None:
        self._built: dict[tuple[str, int], BusinessCalendar] = {}

    def build(self, row: CalendarRow) -> BusinessCalendar:
        key = (row.id, row.version)
        if key not in self._built:
            if len(self._built) >= MAX_CACHED:
                self._built.clear()
            self._built[key] = spec_of(row).build()
        return self._built[key]

    async def load(self, session: AsyncSession, ids: set[str]) -> dict[str, BusinessCalendar]:
        if not ids:
            return {}
        rows = (await session.execute(select(CalendarRow).where(CalendarRow.id.in_(ids)))).scalars()
        return {row.id: self.build(row) for row in rows}
