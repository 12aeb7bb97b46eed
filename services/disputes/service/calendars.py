"""Business calendars loaded from their rows, built once per (id, version) and kept: building one
reads the holidays package, which is too slow to repeat for every clock of every listed case.

A transaction that loaded its cases' clocks through `services.disputes.data.loading` already knows the
version of each clock's calendar (read in the clocks' own query); when the book has that version
built, `load` answers without reading the calendar rows again. Otherwise it reads them, as ever.

Starting the clocks of a brand-new case asks `customer_calendar_id` and `current`, which answer
from an index of every calendar's id, customer and version, re-read at most every
REFERENCE_TTL_S (one narrow query, however many calendars) and cleared by `forget()` after a
calendar change commits in this process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.reference import ReferenceData
from common.sla.calendar import BusinessCalendar
from services.disputes.domain.policies import CalendarSpec
from services.disputes.data.models import CalendarRow

MAX_CACHED = 256
# session.info key: calendar id -> the version this transaction read with the clocks.
_SEEN = "settle.disputes.calendar_versions"
_INDEX = select(CalendarRow.id, CalendarRow.customer_id, CalendarRow.version)


@dataclass(frozen=True)
class CalendarIndex:
    versions: dict[str, int]  # calendar id -> version
    by_customer: dict[str, str]  # customer id -> their calendar's id


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


def seen_versions(session: AsyncSession, versions: Mapping[str, int]) -> None:
    """Records calendar versions read in this transaction (with the clocks that use them)."""
    session.info.setdefault(_SEEN, {}).update(versions)


class CalendarBook:
    """Owned by the service context (one per process). `always` is the one 24x7 calendar that
    calendar-time targets count on, built once instead of for every clock read."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, int], BusinessCalendar] = {}
        self.always = BusinessCalendar.always()
        self._index = ReferenceData()

    def forget(self) -> None:
        """After a calendar change commits: the next new case reads the index afresh."""
        self._index.forget()

    async def _current_index(self, session: AsyncSession) -> CalendarIndex:
        async def load() -> CalendarIndex:
            rows = (await session.execute(_INDEX)).all()
            return CalendarIndex(
                {cid: version for cid, _, version in rows},
                {customer: cid for cid, customer, _ in rows if customer},
            )

        return await self._index.get("calendars", load)

    async def customer_calendar_id(self, session: AsyncSession, customer_id: str) -> str | None:
        return (await self._current_index(session)).by_customer.get(customer_id)

    async def current(self, session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        """The calendar as the index last saw it (built once per version); its version is
        recorded in the transaction so `load` answers from the book too."""
        version = (await self._current_index(session)).versions.get(calendar_id)
        built = self._built.get((calendar_id, version))
        if built is None:  # not built yet, or newer than the index: read its row
            return (await self.load(session, {calendar_id}))[calendar_id]
        seen_versions(session, {calendar_id: version})
        return built

    def build(self, row: CalendarRow) -> BusinessCalendar:
        key = (row.id, row.version)
        if key not in self._built:
            if len(self._built) >= MAX_CACHED:
                self._built.clear()
            self._built[key] = spec_of(row).build()
        return self._built[key]

    def _known(self, session: AsyncSession, ids: set[str]) -> dict[str, BusinessCalendar] | None:
        seen = session.info.get(_SEEN)
        if not seen:
            return None
        found = {}
        for calendar_id in ids:
            built = self._built.get((calendar_id, seen.get(calendar_id)))
            if built is None:
                return None
            found[calendar_id] = built
        return found

    async def load(self, session: AsyncSession, ids: set[str]) -> dict[str, BusinessCalendar]:
        if not ids:
            return {}
        known = self._known(session, ids)
        if known is not None:
            return known
        rows = (await session.execute(select(CalendarRow).where(CalendarRow.id.in_(ids)))).all()
        seen_versions(session, {row.id: row.version for (row,) in rows})
        return {row.id: self.build(row) for (row,) in rows}
