"""SLA clock transitions and due times on real business calendars (Berlin with German holidays)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import FailedPrecondition, InvalidArgument
from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from common.sla.clock import ClockKind, ClockStatus, PauseReason, Threshold

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
DE = BusinessCalendar.build("Europe/Berlin", country="DE")
US_NY = BusinessCalendar.build("America/New_York", country="US")
ALWAYS = BusinessCalendar.always()
WAIT = PauseReason.PENDING_CUSTOMER


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


# Ten business days from Monday 14 December 2026, 09:00: Christmas and a weekend in the way.
MONDAY = at(2026, 12, 14, 9)


def resolve_clock() -> sla.Clock:
    return sla.start(ClockKind.RESOLVE, 80 * H, MONDAY)


def test_start_runs_from_the_given_instant():
    clock = resolve_clock()
    assert clock.status is ClockStatus.RUNNING and clock.running_since == clock.started_at == MONDAY
    assert clock.pausable and not sla.start(ClockKind.ACKNOWLEDGE, 8 * H, MONDAY).pausable
    assert sla.spent(clock, DE, at(2026, 12, 15, 12)) == 11 * H
    assert sla.remaining(clock, DE, at(2026, 12, 15, 12)) == 69 * H


def test_due_times_skip_weekends_and_holidays():
    # 5 days to Fri 18th, 4 to Thu 24th, Fri 25th is Christmas, 28th is the tenth day.
    assert sla.due_at(resolve_clock(), DE) == at(2026, 12, 28, 17)
    assert [(m.name, m.due_at) for m in sla.milestones(resolve_clock(), DE)] == [
        ("WARNING_50", at(2026, 12, 18, 17)),
        ("WARNING_75", at(2026, 12, 23, 13)),
        ("BREACH", at(2026, 12, 28, 17)),
    ]


def test_pause_excludes_its_time_before_due_times_are_computed():
    paused = sla.pause(resolve_clock(), DE, at(2026, 12, 18, 17), WAIT)
    assert (paused.status, paused.pause_reason, paused.spent_before) == ("PAUSED", WAIT, 40 * H)
    assert sla.due_at(paused, DE) is None and sla.milestones(paused, DE) == []
    assert sla.spent(paused, DE, at(2026, 12, 21, 15)) == 40 * H
    resumed = sla.resume(paused, DE, at(2026, 12, 22, 9))  # Monday 21st is lost to the customer
    assert resumed.paused_total == 88 * H  # wall time, for reporting
    # 50 % was reached when the clock paused: it is history and does not come back.
    assert [(m.name, m.due_at) for m in sla.milestones(resumed, DE)] == [
        ("WARNING_75", at(2026, 12, 24, 13)),
        ("BREACH", at(2026, 12, 29, 17)),
    ]


def test_stop_freezes_spent_time():
    met = sla.stop(resolve_clock(), DE, at(2026, 12, 16, 10))
    assert (met.status, met.stopped_at, met.spent_before) == ("MET", at(2026, 12, 16, 10), 17 * H)
    assert sla.spent(met, DE, at(2027, 6, 1, 12)) == 17 * H and sla.due_at(met, DE) is None
    paused = sla.pause(resolve_clock(), DE, at(2026, 12, 14, 10), PauseReason.PENDING_THIRD_PARTY)
    cancelled = sla.stop(paused, DE, at(2026, 12, 14, 15), ClockStatus.CANCELLED)
    assert cancelled.status is ClockStatus.CANCELLED and cancelled.pause_reason is None
    assert (cancelled.spent_before, cancelled.paused_total) == (H, 5 * H)


def test_retarget_keeps_spent_and_paused_time():
    paused = sla.pause(resolve_clock(), DE, at(2026, 12, 15, 9), WAIT)
    clock = sla.resume(paused, DE, at(2026, 12, 16, 9))
    thursday = at(2026, 12, 17, 12)
    shorter = sla.retarget(clock, DE, 40 * H, thursday)
    assert sla.spent(shorter, DE, thursday) == sla.spent(clock, DE, thursday) == 19 * H
    assert shorter.paused_total == clock.paused_total == 24 * H
    assert sla.due_at(shorter, DE) == at(2026, 12, 21, 17)


def test_a_threshold_passed_in_the_current_segment_is_due_in_the_past():
    # Lowering the target below the time spent breaches at once: the breach is due in the past,
    # so a sweeper fires it now instead of never.
    late = sla.retarget(resolve_clock(), DE, 16 * H, at(2026, 12, 17, 12))
    assert sla.due_at(late, DE) == at(2026, 12, 15, 17)
    assert sla.remaining(late, DE, at(2026, 12, 17, 12)) == -11 * H


def test_custom_thresholds_and_calendar_time():
    clock = sla.start(ClockKind.RESPONSE, 24 * H, datetime(2026, 12, 24, 20, tzinfo=UTC))
    nudges = (Threshold("HALF", Fraction(1, 2)), Threshold("OVERDUE", Fraction(3, 2)))
    due = [m.due_at for m in sla.milestones(clock, ALWAYS, thresholds=nudges)]
    assert due == [datetime(2026, 12, 25, 8, tzinfo=UTC), datetime(2026, 12, 26, 8, tzinfo=UTC)]
    # A fraction of an odd target is rounded up to the first microsecond it is truly reached.
    new_year = datetime(2026, 1, 1, tzinfo=UTC)
    odd = sla.start(ClockKind.RESPONSE, timedelta(microseconds=3), new_year)
    assert sla.due_at(odd, ALWAYS, Fraction(1, 2)) == new_year + timedelta(microseconds=2)


# --- refusals -----------------------------------------------------------------------------------


def test_acknowledge_clock_is_never_paused():
    ack = sla.start(ClockKind.ACKNOWLEDGE, 8 * H, MONDAY)
    with pytest.raises(FailedPrecondition) as err:
        sla.pause(ack, DE, MONDAY + H, WAIT)
    assert err.value.reason == "CLOCK_NOT_PAUSABLE"
    with pytest.raises(InvalidArgument):
        sla.start(ClockKind.ACKNOWLEDGE, 8 * H, MONDAY, pausable=True)


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (lambda c: sla.resume(c, DE, MONDAY + H), "CLOCK_NOT_PAUSED"),
        (
            lambda c: sla.pause(sla.pause(c, DE, MONDAY, WAIT), DE, MONDAY, WAIT),
            "CLOCK_NOT_RUNNING",
        ),
        (lambda c: sla.stop(sla.stop(c, DE, MONDAY), DE, MONDAY + H), "CLOCK_STOPPED"),
        (lambda c: sla.retarget(sla.stop(c, DE, MONDAY), DE, H, MONDAY + H), "CLOCK_STOPPED"),
        (lambda c: sla.pause(sla.stop(c, DE, MONDAY), DE, MONDAY + H, WAIT), "CLOCK_NOT_RUNNING"),
    ],
)
def test_wrong_state_is_a_failed_precondition(action, reason):
    with pytest.raises(FailedPrecondition) as err:
        action(resolve_clock())
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (lambda c: sla.start(ClockKind.RESOLVE, timedelta(0), MONDAY), "target"),
        (lambda c: sla.start("LUNCH", H, MONDAY), "kind"),
        (lambda c: sla.retarget(c, DE, -H, MONDAY + H), "new_target"),
        (lambda c: sla.pause(c, DE, MONDAY + H, "BORED"), "reason"),
        (lambda c: sla.pause(c, DE, MONDAY - H, WAIT), "at"),
        (lambda c: sla.stop(c, DE, MONDAY + H, ClockStatus.PAUSED), "status"),
        (lambda c: sla.due_at(c, DE, Fraction(0)), "fraction"),
    ],
)
def test_bad_input_is_an_invalid_argument(action, field):
    with pytest.raises(InvalidArgument) as err:
        action(resolve_clock())
    assert [v.field for v in err.value.violations] == [field]


def test_naive_datetimes_and_inconsistent_rows_are_refused():
    with pytest.raises(ValueError):
        sla.start(ClockKind.RESOLVE, H, datetime(2026, 12, 14, 9))
    with pytest.raises(ValueError):
        replace(resolve_clock(), status=ClockStatus.PAUSED)  # paused without a reason or instant
    assert sla.pause(resolve_clock(), DE, MONDAY, "PENDING_CUSTOMER").pause_reason is WAIT


def test_a_clock_rebuilt_from_a_stored_row_is_normalised():
    row = {"kind": "RESOLVE", "target": 80 * H, "status": "PAUSED", "spent_before": 8 * H}
    local = datetime(2026, 12, 15, 9, tzinfo=BERLIN)
    clock = sla.Clock(
        **row,
        started_at=local,
        running_since=None,
        paused_total=timedelta(0),
        paused_since=local,
        pause_reason="PENDING_CUSTOMER",
        stopped_at=None,
        pausable=True,
    )
    assert clock.status is ClockStatus.PAUSED and clock.pause_reason is WAIT
    assert clock.paused_since.tzinfo is UTC and clock.paused_since == local
    assert sla.resume(clock, DE, at(2026, 12, 16, 9)).paused_total == 24 * H


# --- properties ---------------------------------------------------------------------------------

MINUTE = timedelta(minutes=1)
starts = st.integers(0, 60 * 24 * 60).map(lambda m: datetime(2026, 11, 20, tzinfo=UTC) + m * MINUTE)
targets = st.integers(1, 15 * 8 * 60).map(lambda m: m * MINUTE)
# Gaps between transitions, from minutes to a couple of weeks (weekends, Christmas, New Year).
gaps = st.lists(st.integers(0, 14 * 24 * 60).map(lambda m: m * MINUTE), min_size=1, max_size=8)
calendars = st.sampled_from([DE, US_NY, ALWAYS])


def run_segments(cal, clock, begin, steps):
    """Alternate pause and resume after each gap; returns the clock and its running segments."""
    segments, now = [], begin
    for gap in steps:
        now += gap
        if clock.status is ClockStatus.RUNNING:
            segments.append((clock.running_since, now))
            clock = sla.pause(clock, cal, now, WAIT)
        else:
            clock = sla.resume(clock, cal, now)
    return clock, segments, now


@given(calendars, starts, targets, gaps, st.integers(0, 5 * 24 * 60).map(lambda m: m * MINUTE))
def test_spent_is_the_sum_of_running_segments(cal, begin, target, steps, tail):
    clock, segments, now = run_segments(
        cal, sla.start(ClockKind.RESOLVE, target, begin), begin, steps
    )
    end = now + tail
    if clock.status is ClockStatus.RUNNING:
        segments.append((clock.running_since, end))
    expected = sum((cal.elapsed(a, b) for a, b in segments), timedelta(0))
    assert sla.spent(clock, cal, end) == expected
    stopped = sla.stop(clock, cal, end)
    assert stopped.spent_before == expected
    assert stopped.paused_total == (end - begin) - sum((b - a for a, b in segments), timedelta(0))


@given(calendars, starts, targets, gaps, targets)
def test_due_time_of_a_running_clock(cal, begin, target, steps, new_target):
    clock, _, now = run_segments(cal, sla.start(ClockKind.RESOLVE, target, begin), begin, steps)
    if clock.status is ClockStatus.PAUSED:
        clock = sla.resume(clock, cal, now)
    for c in (clock, sla.retarget(clock, cal, new_target, now)):
        left = c.target - c.spent_before
        expected = cal.add(c.running_since, left) if left > timedelta(0) else None
        assert sla.due_at(c, cal) == expected
    retargeted = sla.retarget(clock, cal, new_target, now)
    assert sla.spent(retargeted, cal, now) == sla.spent(clock, cal, now)
    assert retargeted.paused_total == clock.paused_total


@given(calendars, starts, targets, st.integers(0, 10**6))
def test_pause_and_resume_at_once_changes_no_due_time(cal, begin, target, per_million):
    clock = sla.start(ClockKind.RESPONSE, target, begin)
    due = sla.due_at(clock, cal)
    moment = begin + (due - begin) * per_million // 10**6
    if moment == due:
        moment = begin
    again = sla.resume(sla.pause(clock, cal, moment, WAIT), cal, moment)
    assert sla.due_at(again, cal) == due
    ahead = [m for m in sla.milestones(clock, cal) if m.due_at > moment]
    assert sla.milestones(again, cal) == ahead
    assert again.paused_total == timedelta(0)


@given(calendars, starts, targets, st.sampled_from(list(PauseReason)))
def test_acknowledge_cannot_be_paused_at_any_time(cal, begin, target, reason):
    ack = sla.start(ClockKind.ACKNOWLEDGE, target, begin)
    with pytest.raises(FailedPrecondition):
        sla.pause(ack, cal, begin + target, reason)
