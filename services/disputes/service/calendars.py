"""Business calendars loaded from their rows, built once per (id, version) and kept: building one
reads the holidays package, which is too slow to repeat for every clock of every listed case.

A clock read with its calendar's version (`calendar_version`: data/loading.py, data/reads.py,
data/sweep.py, or a clock just started here) lets `load` answer from the book when it has that
version built, without reading the calendar rows again (`versions_of` gathers them). Otherwise it
reads them, as ever.

Starting the clocks of a brand-new case asks `customer_calendar_id` and `current`, which answer
from an index of every calendar's id, customer and version, re-read at most every
REFERENCE_TTL_S (one narrow query, however many calendars) and cleared by `forget()` after a
calendar change commits in this process."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.reference import ReferenceData
from common.sla.calendar import BusinessCalendar
from services.disputes.data import repository as repo
from services.disputes.data.admin_reads import CalendarRecord
from services.disputes.data.models import CalendarRow
from services.disputes.domain.policies import CalendarSpec

MAX_CACHED = 256


@dataclass(frozen=True)
class CalendarIndex:
    versions: dict[str, int]  # calendar id -> version
    by_customer: dict[str, str]  # customer id -> their calendar's id


def spec_of(row: CalendarRow | CalendarRecord | Row) -> CalendarSpec:
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


def versions_of(clocks: Iterable) -> dict[str, int]:
    """Calendar id -> the version read with these clock rows (where it was read with them)."""
    return {
        c.calendar_id: c.calendar_version
        for c in clocks
        if getattr(c, "calendar_version", None) is not None
    }


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
            rows = await repo.calendar_index(session)
            return CalendarIndex(
                {cid: version for cid, _, version in rows},
                {customer: cid for cid, customer, _ in rows if customer},
            )

        return await self._index.get("calendars", load)

    async def customer_calendar_id(self, session: AsyncSession, customer_id: str) -> str | None:
        return (await self._current_index(session)).by_customer.get(customer_id)

    async def current(
        self, session: AsyncSession, calendar_id: str
    ) -> tuple[BusinessCalendar, int]:
        """The calendar as the index last saw it (built once per version), and its version."""
        version = (await self._current_index(session)).versions.get(calendar_id)
        built = self._built.get((calendar_id, version))
        if built is None or version is None:  # not built yet, or newer than the index
            row = (await repo.calendars_by_id(session, {calendar_id}))[0]
            return self.build(row), row.version
        return built, version

    def build(self, row: CalendarRow | Row) -> BusinessCalendar:
        key = (row.id, row.version)
        if key not in self._built:
            if len(self._built) >= MAX_CACHED:
                self._built.clear()
            self._built[key] = spec_of(row).build()
        return self._built[key]

    def _known(
        self, ids: set[str], versions: Mapping[str, int]
    ) -> dict[str, BusinessCalendar] | None:
        found = {}
        for calendar_id in ids:
            built = self._built.get((calendar_id, versions.get(calendar_id)))
            if built is None:
                return None
            found[calendar_id] = built
        return found

    async def load(
        self,
        session: AsyncSession | AsyncConnection,
        ids: set[str],
        versions: Mapping[str, int] | None = None,
    ) -> dict[str, BusinessCalendar]:
        """The calendars `ids`; `versions` (calendar id -> version, read in this transaction with
        the clocks that use them) lets the book answer without reading their rows."""
        if not ids:
            return {}
        known = self._known(ids, versions) if versions else None
        if known is not None:
            return known
        return {row.id: self.build(row) for row in await repo.calendars_by_id(session, ids)}
