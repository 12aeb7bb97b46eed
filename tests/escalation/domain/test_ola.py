"""The OLA clock, pure: milestones in the team calendar, fired once, pauses excluded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from common.sla import BusinessCalendar, ClockStatus
from services.escalation.domain import ola
from services.escalation.domain.states import ClockEffect

BERLIN = BusinessCalendar.build("Europe/Berlin", country="DE")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
THREE_DAYS = timedelta(hours=24)  # three 8-hour business days


def test_milestones_in_business_time():
    clock = ola.start(THREE_DAYS, MONDAY)
    due = {m.name: m.due_at for m in ola.unfired(clock, BERLIN, ())}
    assert due == {
        "WARNING_50": datetime(2026, 3, 3, 13, 0, tzinfo=UTC),
        "WARNING_75": datetime(2026, 3, 4, 11, 0, tzinfo=UTC),
        "BREACH": datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    }
    assert ola.next_due(clock, BERLIN, ()) == due["WARNING_50"]
    assert ola.next_due(clock, BERLIN, ("WARNING_50",)) == due["WARNING_75"]
    assert ola.next_due(clock, BERLIN, ola.MILESTONES) is None


def test_due_lists_each_reached_milestone_once():
    clock = ola.start(THREE_DAYS, MONDAY)
    late = datetime(2026, 3, 10, tzinfo=UTC)
    assert [m.name for m in ola.due(clock, BERLIN, (), late)] == list(ola.MILESTONES)
    assert ola.due(clock, BERLIN, ola.MILESTONES, late) == []
    assert ola.due(clock, BERLIN, (), MONDAY + timedelta(hours=1)) == []


def test_pause_excludes_time_and_a_fired_warning_never_returns():
    clock = ola.start(THREE_DAYS, MONDAY)
    wednesday = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # past 75 %
    fired = tuple(m.name for m in ola.due(clock, BERLIN, (), wednesday))
    assert fired == ("WARNING_50", "WARNING_75")
    paused = ola.apply(clock, BERLIN, ClockEffect.PAUSE, wednesday)
    assert paused.status is ClockStatus.PAUSED
    assert ola.breach_time(paused, BERLIN, fired, None) is None
    resumed = ola.apply(paused, BERLIN, ClockEffect.RESUME, wednesday + timedelta(days=7))
    breach = ola.breach_time(resumed, BERLIN, fired, None)
    # 5 business hours were left on Wednesday 13:00 Berlin; resumed a week later at the same time.
    assert breach == datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    assert [m.name for m in ola.unfired(resumed, BERLIN, fired)] == ["BREACH"]


def test_effects_that_do_not_apply_leave_the_clock_alone():
    clock = ola.start(THREE_DAYS, MONDAY)
    assert ola.apply(clock, BERLIN, ClockEffect.RESUME, MONDAY) == clock
    met = ola.apply(clock, BERLIN, ClockEffect.MEET, MONDAY + timedelta(hours=2))
    assert met.status is ClockStatus.MET
    assert ola.apply(met, BERLIN, ClockEffect.MEET, MONDAY + timedelta(hours=3)) == met
    assert ola.retarget(met, BERLIN, timedelta(hours=8), MONDAY + timedelta(hours=3)) == met
    assert ola.next_due(met, BERLIN, ()) is None


def test_retarget_keeps_time_spent():
    clock = ola.start(THREE_DAYS, MONDAY)
    tuesday = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # 8 business hours spent
    shorter = ola.retarget(clock, BERLIN, timedelta(hours=8), tuesday)
    assert ola.remaining(shorter, BERLIN, tuesday) == timedelta(0)
    assert ola.breach_time(shorter, BERLIN, (), None) == tuesday
