"""Business calendar arithmetic: real holidays, DST in Berlin and New York, and the invariants that
everything else (SLA clocks, due times) relies on."""

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import InvalidArgument
from common.sla.calendar import MAX_SPAN, BusinessCalendar, HolidayLookup

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
H, M = timedelta(hours=1), timedelta(minutes=1)
US = timedelta(microseconds=1)
WEEKDAYS_LUNCH = {d: [("09:00", "12:30"), ("13:15", "18:00")] for d in range(5)}

DE = BusinessCalendar.build("Europe/Berlin", country="DE")
US_NY = BusinessCalendar.build("America/New_York", country="US")
# Lunch breaks, a Saturday morning, a late shift to midnight, and a whole Sunday across DST.
DE_LUNCH = BusinessCalendar.build(
    "Europe/Berlin", {**WEEKDAYS_LUNCH, 5: [("10:00", "14:00")]}, country="DE", subdivision="BY"
)
NY_SHIFTS = BusinessCalendar.build(
    "America/New_York",
    {0: [("08:00", "12:00"), ("22:00", "24:00")], 2: [("13:00", "17:00")], 6: [("00:00", "00:00")]},
    country="US",
)
CALENDARS = [DE, US_NY, DE_LUNCH, NY_SHIFTS, BusinessCalendar.always()]

# Hypothesis explores a week either side of the days where calendars go wrong.
ANCHORS = [
    datetime(2026, 3, 8, 12, tzinfo=UTC),  # US DST starts
    datetime(2026, 3, 29, 12, tzinfo=UTC),  # EU DST starts
    datetime(2026, 10, 25, 12, tzinfo=UTC),  # EU DST ends
    datetime(2026, 11, 1, 12, tzinfo=UTC),  # US DST ends
    datetime(2026, 11, 26, 12, tzinfo=UTC),  # Thanksgiving
    datetime(2026, 12, 24, 12, tzinfo=UTC),  # Christmas
    datetime(2027, 1, 1, 12, tzinfo=UTC),  # New Year
    datetime(2027, 3, 14, 12, tzinfo=UTC),
    datetime(2027, 10, 31, 12, tzinfo=UTC),
    datetime(2027, 12, 30, 12, tzinfo=UTC),
]
WEEK_US = 7 * 86_400 * 10**6
instants = st.builds(
    lambda anchor, offset: anchor + offset * US,
    st.sampled_from(ANCHORS),
    st.integers(-WEEK_US, WEEK_US),
)
durations = st.one_of(st.integers(0, 4 * 3600 * 10**6), st.integers(0, 30 * 8 * 3600 * 10**6)).map(
    lambda n: n * US
)
calendars = st.sampled_from(CALENDARS)


def at(zone: ZoneInfo, *args: int) -> datetime:
    """A local wall time as the UTC instant the API speaks."""
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def local_day(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The instants a local calendar day begins and ends (23 or 25 hours apart on DST days)."""
    midnight = datetime.combine(day, time(0), zone)
    return midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC)


# --- invariants ---------------------------------------------------------------------------------


@given(calendars, instants, durations)
def test_elapsed_inverts_add(cal, start, duration):
    assert cal.elapsed(start, cal.add(start, duration)) == duration


@given(calendars, instants, durations, durations)
def test_add_is_monotonic_in_duration(cal, start, d1, d2):
    d1, d2 = sorted((d1, d2))
    assert start <= cal.add(start, d1) <= cal.add(start, d2)


@given(calendars, st.lists(instants, min_size=3, max_size=3))
def test_elapsed_is_additive(cal, points):
    a, b, c = sorted(points)
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert cal.elapsed(c, a) == timedelta(0)


@given(calendars, instants, durations.filter(bool))
def test_add_lands_in_working_time(cal, start, duration):
    # The microsecond just before the result is working time: the result is inside an interval
    # or at its end, never at the start of the next one.
    due = cal.add(start, duration)
    assert cal.elapsed(due - US, due) == US


def reference_minutes(cal: BusinessCalendar, zone, country, subdiv, start, minutes) -> int:
    """Independent brute force: look at every minute's local wall time."""
    days_off = holidays.country_holidays(country, subdiv=subdiv, years=range(2025, 2029))
    count = 0
    for n in range(minutes):
        local = (start + n * M).astimezone(zone)
        if local.date() in days_off:
            continue
        wall = local.time().replace(tzinfo=None)
        for lo, hi in cal.working_hours[local.weekday()]:
            count += lo <= wall and (hi == time(0) or wall < hi)
    return count


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([(DE_LUNCH, BERLIN, "DE", "BY"), (NY_SHIFTS, NEW_YORK, "US", None)]),
    st.sampled_from(ANCHORS),
    st.integers(-5 * 1440, 5 * 1440),
    st.integers(0, 3 * 1440),
)
def test_elapsed_matches_minute_by_minute_reference(case, anchor, offset, minutes):
    cal, zone, country, subdiv = case
    start = anchor + timedelta(minutes=offset)
    expected = reference_minutes(cal, zone, country, subdiv, start, minutes)
    assert cal.elapsed(start, start + timedelta(minutes=minutes)) == timedelta(minutes=expected)


# --- holidays and weekends ----------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)])
def test_german_holidays_are_not_working_days(day):
    assert DE.elapsed(*local_day(BERLIN, day)) == timedelta(0)


def test_thanksgiving_is_not_a_working_day():
    assert US_NY.elapsed(*local_day(NEW_YORK, date(2026, 11, 26))) == timedelta(0)
    # Wednesday 17:00 + one business day = Friday 17:00 (EST, UTC-5).
    assert US_NY.add(at(NEW_YORK, 2026, 11, 25, 17), 8 * H) == datetime(
        2026, 11, 27, 22, tzinfo=UTC
    )


def test_every_public_holiday_and_weekend_day_counts_nothing():
    for day in holidays.country_holidays("DE", years=[2026, 2027]):
        assert DE.elapsed(*local_day(BERLIN, day)) == timedelta(0), day
    weekend = [date(2026, 3, 28) + timedelta(days=n) for n in range(0, 210, 7)]
    for day in weekend + [d + timedelta(days=1) for d in weekend]:
        assert US_NY.elapsed(*local_day(NEW_YORK, day)) == timedelta(0), day


def test_german_year_end():
    # Working days: Thu 24th, Mon 28th – Thu 31st. Fri 25th, Sat 26th and Fri 1 Jan are holidays.
    start, end = at(BERLIN, 2026, 12, 24), at(BERLIN, 2027, 1, 4)
    assert DE.elapsed(start, end) == 40 * H
    assert DE.add(at(BERLIN, 2026, 12, 24, 9), 16 * H) == at(BERLIN, 2026, 12, 28, 17)
    assert DE.add(at(BERLIN, 2026, 12, 31, 9), 9 * H) == at(BERLIN, 2027, 1, 4, 10)
    closed = BusinessCalendar.build(
        "Europe/Berlin", country="DE", extra_holidays=[date(2026, 12, 24), date(2026, 12, 31)]
    )
    assert closed.elapsed(start, end) == 24 * H


def test_us_year_end():
    # Christmas (Fri 25th) and New Year (Fri 1 Jan) are federal holidays; 24th and 31st are not.
    start, end = at(NEW_YORK, 2026, 12, 24), at(NEW_YORK, 2027, 1, 4)
    assert US_NY.elapsed(start, end) == 40 * H
    assert US_NY.add(at(NEW_YORK, 2026, 12, 24, 16), 2 * H) == at(NEW_YORK, 2026, 12, 28, 10)


def test_subdivision_holidays():
    epiphany = local_day(BERLIN, date(2026, 1, 6))  # a public holiday in Bavaria only
    assert DE.elapsed(*epiphany) == 8 * H
    assert DE_LUNCH.elapsed(*epiphany) == timedelta(0)


def test_extra_working_day_overrides_a_holiday():
    cal = BusinessCalendar.build(
        "Europe/Berlin", country="DE", extra_working_days=[date(2026, 12, 25)]
    )
    assert cal.add(at(BERLIN, 2026, 12, 24, 9), 16 * H) == at(BERLIN, 2026, 12, 25, 17)


# --- DST: business time is real elapsed time between local wall times ---------------------------


@pytest.mark.parametrize(
    ("cal", "zone", "friday", "monday_10"),
    [
        (DE, BERLIN, (2026, 3, 27, 16), datetime(2026, 3, 30, 8, tzinfo=UTC)),  # CET → CEST
        (DE, BERLIN, (2026, 10, 23, 16), datetime(2026, 10, 26, 9, tzinfo=UTC)),  # CEST → CET
        (US_NY, NEW_YORK, (2026, 3, 6, 16), datetime(2026, 3, 9, 14, tzinfo=UTC)),  # EST → EDT
        (US_NY, NEW_YORK, (2026, 10, 30, 16), datetime(2026, 11, 2, 15, tzinfo=UTC)),  # EDT → EST
    ],
)
def test_working_hours_follow_local_wall_time_across_dst(cal, zone, friday, monday_10):
    start = at(zone, *friday)
    assert cal.add(start, 2 * H) == monday_10
    assert cal.elapsed(start, monday_10) == 2 * H


@pytest.mark.parametrize(
    ("zone", "sunday", "length"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23 * H),
        ("Europe/Berlin", date(2026, 10, 25), 25 * H),
        ("America/New_York", date(2026, 3, 8), 23 * H),
        ("America/New_York", date(2026, 11, 1), 25 * H),
    ],
)
def test_a_whole_local_day_lasts_as_long_as_the_clocks_say(zone, sunday, length):
    cal = BusinessCalendar.build(zone, {6: [("00:00", "24:00")]})
    start, end = local_day(ZoneInfo(zone), sunday)
    assert cal.elapsed(start - 12 * H, end + 12 * H) == length
    assert cal.add(start - 12 * H, length) == end
    assert cal.add(start, length + US) == end + 6 * 24 * H + US  # next Sunday (same offset)


def test_wall_time_skipped_by_dst_counts_nothing():
    # On 29 March 2026 Berlin clocks jump from 02:00 to 03:00: 01:00–02:15 is the hour 01:00–02:00
    # and 02:30–03:30 is only the half hour from 03:00 on.
    cal = BusinessCalendar.build("Europe/Berlin", {6: [("01:00", "02:15"), ("02:30", "03:30")]})
    assert cal.elapsed(*local_day(BERLIN, date(2026, 3, 29))) == 90 * M
    assert cal.add(at(BERLIN, 2026, 3, 29), 61 * M) == at(BERLIN, 2026, 3, 29, 3, 1)
    assert cal.elapsed(*local_day(BERLIN, date(2026, 4, 5))) == 2 * H + 15 * M
    # Samoa skipped Friday 30 December 2011: its hours must not land on Saturday the 31st.
    apia = BusinessCalendar.build("Pacific/Apia")
    samoa = ZoneInfo("Pacific/Apia")
    assert (
        apia.elapsed(at(samoa, 2011, 12, 29), at(samoa, 2012, 1, 3)) == 16 * H
    )  # Thursday 29th and Monday 2nd


def test_a_boundary_in_a_repeated_hour_is_its_first_occurrence():
    # On 25 October 2026 Berlin repeats 02:00–03:00 (CEST, then CET).
    cal = BusinessCalendar.build("Europe/Berlin", {6: [("01:00", "04:00")]})
    assert cal.elapsed(*local_day(BERLIN, date(2026, 10, 25))) == 4 * H
    assert cal.elapsed(*local_day(BERLIN, date(2026, 3, 29))) == 2 * H
    early = BusinessCalendar.build("Europe/Berlin", {6: [("01:00", "02:30")]})
    assert early.elapsed(*local_day(BERLIN, date(2026, 10, 25))) == H + H / 2  # 01:00–02:30 CEST
    assert early.add(at(BERLIN, 2026, 10, 25), 2 * H) == at(BERLIN, 2026, 11, 1, 1, 30)


# --- add() details ------------------------------------------------------------------------------


def test_counting_starts_at_the_next_working_instant():
    saturday = at(BERLIN, 2026, 6, 6, 10)
    assert DE.add(saturday, H) == at(BERLIN, 2026, 6, 8, 10)
    assert DE.add(saturday, timedelta(0)) == saturday


def test_lunch_break_and_end_of_interval():
    cal = BusinessCalendar.build("Europe/Berlin", WEEKDAYS_LUNCH)
    assert cal.add(at(BERLIN, 2026, 6, 1, 11), 90 * M) == at(BERLIN, 2026, 6, 1, 12, 30)
    assert cal.add(at(BERLIN, 2026, 6, 1, 11), 2 * H) == at(BERLIN, 2026, 6, 1, 13, 45)
    lunch = at(BERLIN, 2026, 6, 1, 12, 30), at(BERLIN, 2026, 6, 1, 13, 15)
    assert cal.elapsed(*lunch) == timedelta(0)


def test_interval_ending_at_midnight_joins_the_next_day():
    cal = BusinessCalendar.build("UTC", {4: [("22:00", "00:00")], 5: [("00:00", "02:00")]})
    friday = datetime(2026, 6, 5, 22, tzinfo=UTC)
    assert cal.add(friday, 3 * H) == datetime(2026, 6, 6, 1, tzinfo=UTC)
    assert cal.add(friday, 4 * H) == datetime(2026, 6, 6, 2, tzinfo=UTC)
    assert cal.add(friday, 4 * H + US) == datetime(2026, 6, 12, 22, tzinfo=UTC) + US


def test_always_is_plain_calendar_time():
    cal, start = BusinessCalendar.always(), datetime(2026, 12, 25, 3, tzinfo=UTC)
    assert cal.add(start, 30 * H) == start + 30 * H
    assert cal.elapsed(start, start + 30 * H) == 30 * H


def test_add_refuses_durations_beyond_the_search_bound():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidArgument) as err:
        DE.add(start, 8 * 261 * 11 * H)  # eleven years of working days
    assert err.value.violations[0].field == "duration"
    with pytest.raises(InvalidArgument):
        BusinessCalendar.always().add(start, MAX_SPAN + US)


def test_naive_datetimes_and_negative_durations_are_programming_errors():
    aware, naive = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 9)
    for call in (
        lambda: DE.add(naive, H),
        lambda: DE.elapsed(aware, naive),
        lambda: DE.add(aware, -H),
    ):
        with pytest.raises(ValueError):
            call()


def test_fifteen_business_days_are_fast():
    start = at(BERLIN, 2026, 12, 14, 9)
    DE.add(start, 120 * H)  # warm the per-day cache
    began = stopwatch.perf_counter()
    for n in range(1000):
        DE.add(start + n * timedelta(minutes=7), 120 * H)
    assert stopwatch.perf_counter() - began < 1.0  # well under a millisecond each


# --- construction -------------------------------------------------------------------------------


MONDAY = date(2026, 6, 8)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"country": "XX"}, "country"),
        ({"country": "DE", "subdivision": "ZZ"}, "subdivision"),
        ({"subdivision": "BY"}, "subdivision"),
        ({"hours": {0: [("17:00", "09:00")]}}, "hours[0][0]"),
        ({"hours": {0: [("09:00", "09:00")]}}, "hours[0][0]"),
        ({"hours": {0: [("09:00", "13:00"), ("12:00", "17:00")]}}, "hours[0]"),
        ({"hours": {}}, "hours"),
        ({"hours": {7: [("09:00", "17:00")]}}, "hours[7]"),
        ({"hours": {0: [("nine", "17:00")]}}, "hours[0][0]"),
        ({"extra_working_days": [date(2026, 6, 6)]}, "extra_working_days"),  # a Saturday
        ({"extra_holidays": [MONDAY], "extra_working_days": [MONDAY]}, "extra_working_days"),
    ],
)
def test_build_rejects_bad_configuration(kwargs, field):
    with pytest.raises(InvalidArgument) as err:
        BusinessCalendar.build(**{"time_zone": "Europe/Berlin", **kwargs})
    assert field in [v.field for v in err.value.violations]


def test_build_reports_every_problem_at_once():
    with pytest.raises(InvalidArgument) as err:
        BusinessCalendar.build("Nowhere/Town", {0: [("10:00", "09:00")]}, country="XX")
    fields = {v.field for v in err.value.violations}
    assert {"time_zone", "country", "hours[0][0]"} <= fields


def test_direct_construction_is_validated_too():
    with pytest.raises(InvalidArgument):
        BusinessCalendar("UTC", ((),) * 7, HolidayLookup())


def test_calendars_are_comparable_hashable_values():
    again = BusinessCalendar.build("Europe/Berlin", country="DE")
    assert again == DE and hash(again) == hash(DE)
    again.add(datetime(2026, 1, 5, tzinfo=UTC), 100 * H)  # a warm cache changes nothing
    assert again == DE and len({DE, again, US_NY}) == 2
    assert (
        BusinessCalendar.build("Europe/Berlin", country="DE", extra_holidays=[date(2026, 6, 8)])
        != DE
    )
    assert DE.working_hours[0] == ((time(9), time(17)),) and DE.working_hours[6] == ()
