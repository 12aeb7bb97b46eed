"""Report schedules as data, and the pure date arithmetic a schedule worker needs: when a
schedule is next due, which period a due run covers, and which runs to catch up after downtime.

Times are wall-clock times in the schedule's IANA zone. On a spring-forward day a time that does
not exist (02:30 in Berlin on the last Sunday of March) runs at the first instant that does
(03:00 CEST); on a fall-back day a time that happens twice runs once, at its first occurrence.
Periods cover whole local days that have ended, so a re-run reproduces the same figures.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LAST_DAY: Literal["last"] = "last"
_SCAN_DAYS = 62  # two calendar months: every frequency has a due day within this window
_LONGEST_GAP = timedelta(days=31)  # monthly runs are at most 31 days apart


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"  # Monday to Friday
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Period(StrEnum):
    YESTERDAY = "yesterday"
    LAST_WEEK = "last_week"  # Monday to Sunday of the ISO week before the run's
    LAST_MONTH = "last_month"
    MONTH_TO_DATE = "month_to_date"  # the 1st of yesterday's month up to yesterday


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Recurrence:
    frequency: Frequency
    at: time  # local wall-clock hour and minute, naive
    zone: str  # IANA name, e.g. "Europe/Berlin"
    weekday: int | None = None  # WEEKLY: 0 = Monday ... 6 = Sunday
    month_day: int | Literal["last"] | None = None  # MONTHLY: 1..31 (past the month's end: its
    # last day) or LAST_DAY

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise ValueError(f"unknown IANA time zone {self.zone!r}") from unknown
        if self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise ValueError("`at` is a wall-clock hour and minute in `zone`, without a tzinfo")
        weekly, monthly = self.frequency is Frequency.WEEKLY, self.frequency is Frequency.MONTHLY
        if weekly != (self.weekday is not None) or (weekly and self.weekday not in range(7)):
            raise ValueError("a weekly schedule, and only it, names a weekday 0..6")
        day_ok = self.month_day == LAST_DAY or self.month_day in range(1, 32)
        if monthly != (self.month_day is not None) or (monthly and not day_ok):
            raise ValueError("a monthly schedule, and only it, names a day 1..31 or 'last'")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def runs_on(self, day: date) -> bool:
        match self.frequency:
            case Frequency.DAILY:
                return True
            case Frequency.WEEKDAYS:
                return day.weekday() < 5
            case Frequency.WEEKLY:
                return day.weekday() == self.weekday
            case Frequency.MONTHLY:
                last = calendar.monthrange(day.year, day.month)[1]
                wanted = min(self.month_day, last) if isinstance(self.month_day, int) else last
                return day.day == wanted
        raise AssertionError(self.frequency)


@dataclass(frozen=True)
class Schedule:
    """A report to run on a recurrence, for a dynamic period, as someone, sent to someone."""

    report: str
    parameters: Mapping[str, object]  # JSON values: "annual_rate": "0.08", "bucket_bounds": [...]
    period: Period
    recurrence: Recurrence
    format: ExportFormat
    recipients: tuple[str, ...]
    run_as: str  # the identity the run reads as: it sees only what that identity may see
    send_only_if_data: bool = False

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("a schedule needs at least one recipient")
        if not self.run_as:
            raise ValueError("a schedule runs as someone")


@dataclass(frozen=True, order=True)
class DateRange:
    first: date
    last: date  # inclusive


@dataclass(frozen=True, order=True)
class DueRun:
    due: datetime  # UTC
    period: DateRange = field(compare=False)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant `day` `at` in `zone`: the first occurrence of a repeated wall time, the
    end of the gap for a wall time that a spring-forward skips."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=1 reads the wall time with the offset after the change (an instant before
    # the gap) and fold=0 with the offset before (an instant after it): the change lies between,
    # on a whole second (tz data has no finer transitions).
    low, high = int(wall.replace(tzinfo=zone, fold=1).timestamp()), int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def next_due(recurrence: Recurrence, after: datetime) -> datetime:
    """The first due instant strictly after `after` (aware), in UTC."""
    zone = recurrence.tz
    start = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_SCAN_DAYS):
        day = start + timedelta(days=offset)
        if recurrence.runs_on(day):
            due = local_instant(day, recurrence.at, zone)
            if due > after:
                return due
    raise AssertionError("every recurrence is due within two months")


def covered_period(period: Period, due: datetime, zone: str) -> DateRange:
    """The whole local days a run due at `due` reports on."""
    today = due.astimezone(ZoneInfo(zone)).date()
    yesterday = today - timedelta(days=1)
    match period:
        case Period.YESTERDAY:
            return DateRange(yesterday, yesterday)
        case Period.LAST_WEEK:
            monday = today - timedelta(days=today.weekday() + 7)
            return DateRange(monday, monday + timedelta(days=6))
        case Period.LAST_MONTH:
            last = today.replace(day=1) - timedelta(days=1)
            return DateRange(last.replace(day=1), last)
        case Period.MONTH_TO_DATE:
            return DateRange(yesterday.replace(day=1), yesterday)
    raise AssertionError(period)


def runs_to_catch_up(
    schedule: Schedule,
    after: datetime,
    now: datetime,
    *,
    covered: DateRange | None,
    limit: int,
) -> list[DueRun]:
    """The runs due in (after, now] that a worker back from downtime still owes, oldest first.

    `after` is the last run's due instant (or the schedule's creation), `covered` the period that
    run reported on (None if it never ran). One run per period, the latest due of each (with the
    freshest data); none for `covered`; only the `limit` most recent periods, as older reports
    sent late help nobody."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    recurrence, zone = schedule.recurrence, schedule.recurrence.zone
    cursor = max(after, now - _LONGEST_GAP * (limit + 1))  # holds `limit` periods of any kind
    latest: dict[DateRange, datetime] = {}
    while (due := next_due(recurrence, cursor)) <= now:
        period = covered_period(schedule.period, due, zone)
        if period != covered:
            latest[period] = due
        cursor = due
    runs = sorted(DueRun(due, period) for period, due in latest.items())
    return runs[-limit:]
