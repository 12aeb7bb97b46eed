"""Schedule arithmetic: next due instant across DST in Europe/Berlin and America/New_York, month
ends and leap years, the period a run covers, and catching up after downtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.reports.schedules import (
    LAST_DAY,
    DateRange,
    ExportFormat,
    Frequency,
    Period,
    Recurrence,
    Schedule,
    covered_period,
    next_due,
    runs_to_catch_up,
)

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def dues(recurrence: Recurrence, after: datetime, count: int) -> list[datetime]:
    found = []
    for _ in range(count):
        after = next_due(recurrence, after)
        found.append(after)
    return found


def daily(at: time, zone: str) -> Recurrence:
    return Recurrence(Frequency.DAILY, at, zone)


def monthly(day, zone: str = BERLIN) -> Recurrence:
    return Recurrence(Frequency.MONTHLY, time(6, 0), zone, month_day=day)


def test_berlin_spring_forward_runs_a_skipped_time_at_the_first_valid_instant():
    # 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day
    assert dues(daily(time(2, 30), BERLIN), utc(2026, 3, 27, 12), 3) == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST, the end of the gap
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_berlin_fall_back_runs_a_repeated_time_once_at_its_first_occurrence():
    # 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice
    assert dues(daily(time(2, 30), BERLIN), utc(2026, 10, 23, 12), 3) == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST; not again at 01:30Z (02:30 CET)
        utc(2026, 10, 26, 1, 30),
    ]


def test_new_york_skipped_and_repeated_hours():
    assert dues(daily(time(2, 0), NEW_YORK), utc(2026, 3, 7, 12), 2) == [
        utc(2026, 3, 8, 7, 0),  # 02:00 EST does not exist: 03:00 EDT
        utc(2026, 3, 9, 6, 0),
    ]
    assert dues(daily(time(1, 30), NEW_YORK), utc(2026, 10, 31, 12), 2) == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, once
        utc(2026, 11, 2, 6, 30),  # 01:30 EST
    ]


def test_due_is_strictly_after_the_given_instant():
    recurrence = daily(time(9, 0), BERLIN)
    assert next_due(recurrence, utc(2026, 6, 1, 7, 0)) == utc(2026, 6, 2, 7, 0)
    assert next_due(recurrence, utc(2026, 6, 1, 6, 59, 59)) == utc(2026, 6, 1, 7, 0)


def test_weekdays_skip_the_weekend_and_weekly_runs_on_its_day():
    weekdays = Recurrence(Frequency.WEEKDAYS, time(7, 0), NEW_YORK)
    local = [d.astimezone(ZoneInfo(NEW_YORK)).date() for d in dues(weekdays, utc(2026, 6, 5), 3)]
    assert local == [date(2026, 6, 5), date(2026, 6, 8), date(2026, 6, 9)]  # Fri, Mon, Tue
    friday = Recurrence(Frequency.WEEKLY, time(17, 0), BERLIN, weekday=4)
    assert dues(friday, utc(2026, 6, 5, 15), 2) == [utc(2026, 6, 12, 15), utc(2026, 6, 19, 15)]


@pytest.mark.parametrize(
    ("day", "after", "expected_local_dates"),
    [
        (31, utc(2026, 1, 15), [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
                                date(2026, 4, 30)]),
        (31, utc(2028, 1, 15), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]),
        (30, utc(2026, 1, 31), [date(2026, 2, 28), date(2026, 3, 30)]),
        (LAST_DAY, utc(2100, 1, 31, 12), [date(2100, 2, 28), date(2100, 3, 31)]),  # not leap
        (LAST_DAY, utc(2000, 1, 31, 12), [date(2000, 2, 29), date(2000, 3, 31)]),  # leap
        (1, utc(2026, 12, 15), [date(2027, 1, 1), date(2027, 2, 1)]),
    ],
)  # fmt: skip
def test_monthly_day_past_the_month_end_runs_on_the_last_day(day, after, expected_local_dates):
    got = dues(monthly(day), after, len(expected_local_dates))
    assert [d.astimezone(ZoneInfo(BERLIN)).date() for d in got] == expected_local_dates
    assert all(d.astimezone(ZoneInfo(BERLIN)).time() == time(6, 0) for d in got)


minutes = st.times().map(lambda t: t.replace(second=0, microsecond=0))
recurrences = st.one_of(
    st.builds(daily, minutes, st.sampled_from([BERLIN, NEW_YORK])),
    st.builds(
        lambda at, zone, wd: Recurrence(Frequency.WEEKLY, at, zone, weekday=wd),
        minutes, st.sampled_from([BERLIN, NEW_YORK]), st.integers(0, 6),
    ),
    st.builds(
        lambda at, zone, d: Recurrence(Frequency.MONTHLY, at, zone, month_day=d),
        minutes, st.sampled_from([BERLIN, NEW_YORK]),
        st.one_of(st.integers(1, 31), st.just(LAST_DAY)),
    ),
    st.builds(
        lambda at, zone: Recurrence(Frequency.WEEKDAYS, at, zone),
        minutes, st.sampled_from([BERLIN, NEW_YORK]),
    ),
)  # fmt: skip
instants = st.datetimes(datetime(2023, 1, 1), datetime(2029, 12, 31), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(recurrences, instants)
def test_each_qualifying_local_day_runs_exactly_once_at_its_wall_time_or_the_gap_end(r, start):
    zone = r.tz
    found = dues(r, start, 40)
    assert all(a < b for a, b in zip([start, *found], found, strict=False))
    days = [d.astimezone(zone).date() for d in found]
    assert len(set(days)) == len(days)  # a repeated hour never runs twice
    assert all(r.runs_on(day) for day in days)
    qualifying = [
        days[0] + timedelta(n) for n in range((days[-1] - days[0]).days + 1)
        if r.runs_on(days[0] + timedelta(n))
    ]  # fmt: skip
    assert days == qualifying  # no day skipped, a skipped hour included
    for due in found:
        wall = due.astimezone(zone)
        if wall.time() != r.at:
            # only in a spring-forward gap: an hour later than asked, a second before still CET/EST
            assert wall.utcoffset() != (due - timedelta(seconds=1)).astimezone(zone).utcoffset()
            assert wall.time() > r.at


@pytest.mark.parametrize(
    ("period", "due", "zone", "expected"),
    [
        (Period.YESTERDAY, utc(2026, 3, 1, 5), BERLIN,
         DateRange(date(2026, 2, 28), date(2026, 2, 28))),
        (Period.LAST_WEEK, utc(2026, 6, 8, 5), BERLIN,  # a Monday
         DateRange(date(2026, 6, 1), date(2026, 6, 7))),
        (Period.LAST_WEEK, utc(2026, 6, 7, 5), BERLIN,  # a Sunday: the week before this one
         DateRange(date(2026, 5, 25), date(2026, 5, 31))),
        (Period.LAST_MONTH, utc(2027, 1, 1, 5), BERLIN,
         DateRange(date(2026, 12, 1), date(2026, 12, 31))),
        (Period.LAST_MONTH, utc(2028, 3, 1, 5), NEW_YORK,
         DateRange(date(2028, 2, 1), date(2028, 2, 29))),
        (Period.LAST_MONTH, utc(2026, 3, 31, 22, 30), BERLIN,  # already April 1st in Berlin
         DateRange(date(2026, 3, 1), date(2026, 3, 31))),
        (Period.LAST_MONTH, utc(2026, 4, 1, 2), NEW_YORK,  # still March 31st in New York
         DateRange(date(2026, 2, 1), date(2026, 2, 28))),
        (Period.MONTH_TO_DATE, utc(2026, 6, 15, 5), BERLIN,
         DateRange(date(2026, 6, 1), date(2026, 6, 14))),
        (Period.MONTH_TO_DATE, utc(2026, 7, 1, 5), BERLIN,  # the 1st: the whole last month
         DateRange(date(2026, 6, 1), date(2026, 6, 30))),
    ],
)  # fmt: skip
def test_covered_period_is_whole_local_days_already_ended(period, due, zone, expected):
    assert covered_period(period, due, zone) == expected


def schedule(recurrence: Recurrence, period: Period) -> Schedule:
    return Schedule(
        report="accounts.aging_by_collector", parameters={"portfolio": "EMEA"}, period=period,
        recurrence=recurrence, format=ExportFormat.XLSX, recipients=("lead@example.com",),
        run_as="user:lead-1",
    )  # fmt: skip


def test_catch_up_after_downtime_owes_one_run_per_missed_day_bounded():
    daily_yesterday = schedule(daily(time(6, 0), BERLIN), Period.YESTERDAY)
    last = utc(2026, 6, 1, 4)  # ran on June 1st for May 31st, then the worker was down
    runs = runs_to_catch_up(
        daily_yesterday, last, utc(2026, 6, 11, 12),
        covered=DateRange(date(2026, 5, 31), date(2026, 5, 31)), limit=3,
    )  # fmt: skip
    assert [r.due for r in runs] == [utc(2026, 6, 9, 4), utc(2026, 6, 10, 4), utc(2026, 6, 11, 4)]
    assert [r.period.first for r in runs] == [date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10)]


def test_catch_up_runs_a_period_once_however_many_runs_were_missed_for_it():
    daily_last_month = schedule(daily(time(6, 0), BERLIN), Period.LAST_MONTH)
    may = DateRange(date(2026, 5, 1), date(2026, 5, 31))
    runs = runs_to_catch_up(
        daily_last_month, utc(2026, 6, 2, 4), utc(2026, 8, 3, 12), covered=may, limit=5
    )
    assert [(r.period.first, r.due) for r in runs] == [
        (date(2026, 6, 1), utc(2026, 7, 31, 4)),  # June, at its latest due run
        (date(2026, 7, 1), utc(2026, 8, 3, 4)),  # July, so far
    ]


def test_never_run_and_nothing_due_yet():
    created = utc(2026, 6, 1, 3)  # before the first 06:00 Berlin run
    s = schedule(daily(time(6, 0), BERLIN), Period.YESTERDAY)
    first = runs_to_catch_up(s, created, utc(2026, 6, 1, 4, 30), covered=None, limit=3)
    assert [(r.due, r.period.first) for r in first] == [(utc(2026, 6, 1, 4), date(2026, 5, 31))]
    assert runs_to_catch_up(s, created, utc(2026, 6, 1, 3, 30), covered=None, limit=3) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: Recurrence(Frequency.DAILY, time(6), "Mars/Olympus"),
        lambda: Recurrence(Frequency.DAILY, time(6, tzinfo=UTC), BERLIN),
        lambda: Recurrence(Frequency.DAILY, time(6, 0, 30), BERLIN),
        lambda: Recurrence(Frequency.WEEKLY, time(6), BERLIN),
        lambda: Recurrence(Frequency.WEEKLY, time(6), BERLIN, weekday=7),
        lambda: Recurrence(Frequency.DAILY, time(6), BERLIN, weekday=1),
        lambda: Recurrence(Frequency.MONTHLY, time(6), BERLIN, month_day=32),
        lambda: Recurrence(Frequency.MONTHLY, time(6), BERLIN, month_day=0),
        lambda: Recurrence(Frequency.MONTHLY, time(6), BERLIN),
        lambda: Schedule("r", {}, Period.YESTERDAY, daily(time(6), BERLIN), ExportFormat.CSV,
                         (), "user:1"),
        lambda: Schedule("r", {}, Period.YESTERDAY, daily(time(6), BERLIN), ExportFormat.CSV,
                         ("a@example.com",), ""),
    ],
)  # fmt: skip
def test_invalid_schedules_are_refused(build):
    with pytest.raises(ValueError):
        build()
