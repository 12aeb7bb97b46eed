"""Business calendars: working hours in a local time zone, minus public and extra holidays.

Pure arithmetic on UTC instants. Working hours are local wall time; each day's intervals are turned
into UTC instants once (cached per calendar), so business time is real elapsed time: a 00:00–24:00
day lasts 23 hours when clocks spring forward and 25 when they fall back. A boundary is the first
instant the wall clock shows that time (or later): the first pass through a repeated hour, the end
of a DST gap for wall time that never shows. That mapping is monotonic, so intervals never overlap
and wall time skipped by DST (even a whole day, as in Samoa in 2011) counts nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from common.errors import InvalidArgument, Violations

Interval = tuple[time, time]
UtcInterval = tuple[datetime, datetime]
ZERO = timedelta(0)
DAY = timedelta(days=1)
MIDNIGHT = time(0)
_TICK = timedelta(microseconds=1)
# add() refuses durations that need more calendar than this, so even a sparse calendar terminates.
MAX_SPAN = timedelta(days=3660)
DEFAULT_HOURS: Mapping[int, Sequence[tuple[str, str]]] = {d: [("09:00", "17:00")] for d in range(5)}
_FULL_DAY = ((MIDNIGHT, MIDNIGHT),)


def as_utc(value: datetime, name: str = "datetime") -> datetime:
    """The same instant in UTC; a naive datetime is a programming error, not bad user input."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class HolidayLookup:
    """Public holidays of a country (and subdivision) plus explicit days off and working days.

    A value: equality and hash use the definition, never the per-year cache. An extra working day
    wins over any holiday on that date.
    """

    country: str | None = None
    subdivision: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    _years: dict[int, frozenset[date]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_working_days", frozenset(self.extra_working_days))
        v = Violations()
        if self.country is None:
            v.require(self.subdivision is None, "subdivision", "needs a country")
        elif self.country not in holidays_lib.list_supported_countries():
            v.add("country", f"no public holidays are known for country {self.country!r}")
        else:
            try:
                holidays_lib.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                v.add("subdivision", str(exc))
        both = sorted(self.extra_holidays & self.extra_working_days)
        v.require(not both, "extra_working_days", f"also listed as extra holidays: {both}")
        v.raise_if_any("invalid holidays")

    @property
    def empty(self) -> bool:
        return self.country is None and not self.extra_holidays

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_working_days or day in self.extra_holidays:
            return day in self.extra_holidays
        if self.country is None:
            return False
        if day.year not in self._years:  # the holidays package works a year at a time; so do we
            found = holidays_lib.country_holidays(
                self.country, subdiv=self.subdivision, years=day.year
            )
            self._years[day.year] = frozenset(found)
        return day in self._years[day.year]


def _offset(t: time) -> timedelta:
    return datetime.combine(date.min, t) - datetime.min


def _length(interval: Interval) -> timedelta:
    start, end = interval
    return (_offset(end) if end != MIDNIGHT else DAY) - _offset(start)


def _check_day(intervals: Sequence, where: str, v: Violations) -> bool:
    """Every interval well-formed and none overlapping; True when the day has working time."""
    valid = []
    for i, interval in enumerate(intervals):
        ok = len(interval) == 2 and all(isinstance(t, time) and t.tzinfo is None for t in interval)
        if not ok:
            v.add(f"{where}[{i}]", "must be a (start, end) pair of naive local times")
        elif _length(interval) <= ZERO:
            v.add(f"{where}[{i}]", f"ends before it starts: {interval[0]}–{interval[1]}")
        else:
            valid.append(interval)
    valid.sort()
    for before, after in pairwise(valid):
        if _length((before[0], after[0])) < _length(before):
            v.add(where, f"intervals overlap: {before[0]}–{before[1]} and {after[0]}–{after[1]}")
    return bool(valid)


def _check_calendar(
    time_zone: str, week: Sequence, lookup: HolidayLookup | None, field_name: str, v: Violations
) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        v.add("time_zone", f"unknown IANA time zone {time_zone!r}")
    if len(week) != 7:
        v.add(field_name, "needs 7 days, Monday first")
        return
    working = [_check_day(day, f"{field_name}[{d}]", v) for d, day in enumerate(week)]
    v.require(any(working), field_name, "the week has no working time")
    for day in sorted(lookup.extra_working_days if lookup else ()):
        v.require(working[day.weekday()], "extra_working_days", f"{day} has no working hours")


def _parse_time(text: str | time) -> time:
    if isinstance(text, time):
        return text
    return MIDNIGHT if text in ("24:00", "24:00:00") else time.fromisoformat(text)


def _parse_week(hours: Mapping[int, Sequence[tuple[str, str]]], v: Violations) -> tuple:
    week: list[list[Interval]] = [[] for _ in range(7)]
    for weekday, intervals in hours.items():
        if weekday not in range(7):
            v.add(f"hours[{weekday}]", "weekday must be 0 (Monday) to 6 (Sunday)")
            continue
        for i, (start, end) in enumerate(intervals):
            try:
                week[weekday].append((_parse_time(start), _parse_time(end)))
            except (TypeError, ValueError):
                v.add(f"hours[{weekday}][{i}]", f"times must look like 09:00: {start!r}–{end!r}")
    return tuple(tuple(day) for day in week)


def _too_long(duration: timedelta) -> InvalidArgument:
    return InvalidArgument.of("duration", f"{duration} needs over {MAX_SPAN.days} days of calendar")


def _first_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock shows `wall` on `day`, or later."""
    local = datetime.combine(day, wall, zone)
    after = local.astimezone(UTC)  # fold=0: the first of two in a repeated hour
    naive = local.replace(tzinfo=None)
    if after.astimezone(zone).replace(tzinfo=None) == naive:
        return after
    # `wall` falls in a DST gap: bisect for the transition, where the clock jumps past it.
    before = local.replace(fold=1).astimezone(UTC)
    while after - before > _TICK:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            after = middle
        else:
            before = middle
    return after


def _utc_day(zone: ZoneInfo, week: tuple, lookup: HolidayLookup, day: date) -> tuple:
    if lookup.is_holiday(day):
        return ()
    intervals = []
    for start, end in week[day.weekday()]:
        lo = _first_instant(day, start, zone)
        hi = _first_instant(day + DAY if end == MIDNIGHT else day, end, zone)
        if hi > lo:  # empty when DST skips the whole interval
            intervals.append((lo, hi))
    return tuple(intervals)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours (local wall time, Monday=0) in an IANA time zone, minus holidays.

    An interval ending at 00:00 ends at midnight, the end of its day. Immutable and hashable; the
    per-day cache of UTC intervals is not part of the value.
    """

    time_zone: str
    working_hours: tuple[tuple[Interval, ...], ...]
    holidays: HolidayLookup
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _day: Callable[[date], tuple[UtcInterval, ...]] = field(init=False, repr=False, compare=False)
    _continuous: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        v = Violations()
        _check_calendar(self.time_zone, self.working_hours, self.holidays, "working_hours", v)
        v.raise_if_any("invalid business calendar")
        week = tuple(tuple(sorted(tuple(i) for i in day)) for day in self.working_hours)
        zone = ZoneInfo(self.time_zone)
        day = functools.partial(_utc_day, zone, week, self.holidays)
        object.__setattr__(self, "working_hours", week)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_day", functools.lru_cache(maxsize=4096)(day))
        continuous = all(d == _FULL_DAY for d in week) and self.holidays.empty
        object.__setattr__(self, "_continuous", continuous)

    @classmethod
    def always(cls) -> BusinessCalendar:
        """Plain calendar time, 24x7: add() is start + duration."""
        return cls("UTC", (_FULL_DAY,) * 7, HolidayLookup())

    @classmethod
    def build(
        cls,
        time_zone: str,
        hours: Mapping[int, Sequence[tuple[str, str]]] | None = None,
        country: str | None = None,
        subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> BusinessCalendar:
        """From configuration: hours like {0: [("09:00", "12:00"), ("13:00", "17:00")], ...}
        (default Mon–Fri 09:00–17:00), holidays of `country` per the holidays package."""
        violations = Violations()
        week = _parse_week(DEFAULT_HOURS if hours is None else hours, violations)
        lookup: HolidayLookup | None = None
        try:
            lookup = HolidayLookup(
                country, subdivision, frozenset(extra_holidays), frozenset(extra_working_days)
            )
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        _check_calendar(time_zone, week, lookup, "hours", violations)
        violations.raise_if_any("invalid business calendar")
        assert lookup is not None  # a lookup that failed left its violations, raised just above
        return cls(time_zone, week, lookup)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The UTC instant at which `duration` of business time has elapsed since `start`.

        Counting begins at the first working instant at or after `start`; a result for a positive
        duration is inside working time or at the end of an interval, never at the next start.
        """
        start = as_utc(start, "start")
        if duration < ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if duration == ZERO:
            return start
        if duration > MAX_SPAN:  # business time never outruns calendar time
            raise _too_long(duration)
        if self._continuous:
            return start + duration
        left = duration
        first_day = self._local_date(start)
        for lo, hi in self._intervals(first_day, first_day + MAX_SPAN):
            if hi <= start:
                continue
            lo = max(lo, start)
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise _too_long(duration)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants; zero when `end` is not after `start`."""
        start, end = as_utc(start, "start"), as_utc(end, "end")
        if end <= start:
            return ZERO
        if self._continuous:
            return end - start
        total = ZERO
        # One day more: a fall-back across midnight can show the next date before `end`'s.
        for lo, hi in self._intervals(self._local_date(start), self._local_date(end) + DAY):
            if lo >= end:
                break
            total += max(ZERO, min(hi, end) - max(lo, start))
        return total

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()

    def _intervals(self, first_day: date, last_day: date) -> Iterator[UtcInterval]:
        """Working intervals in UTC, ascending and disjoint, of local days first_day..last_day."""
        day = first_day
        while day <= last_day:
            yield from self._day(day)
            day += DAY
