"""Milestone planning on business calendars: pauses across weekends, holidays and DST, re-targets,
and thresholds that fire once; plus policy selection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from services.disputes.domain.milestones import SlaState, case_state, plan
from services.disputes.domain.policies import (
    CaseFacts,
    Policy,
    Priority,
    Target,
    TimeUnit,
    select_policy,
    thresholds,
    working_day,
)

BERLIN = BusinessCalendar.build("Europe/Berlin", country="DE")
STEPS = thresholds((50, 75))
# around the spring DST change, Easter (Good Friday, Easter Monday) and the year end
instants = st.datetimes(
    min_value=datetime(2025, 12, 20), max_value=datetime(2026, 4, 20), timezones=st.just(UTC)
)
gaps = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=9))


@settings(max_examples=60, deadline=None)
@given(
    start=instants, days=st.integers(1, 15), segments=st.lists(st.tuples(gaps, gaps), max_size=4)
)
def test_due_times_count_only_running_business_time(start, days, segments):
    target = Target(days, TimeUnit.BUSINESS_DAYS).duration(BERLIN)
    clock = sla.start(sla.ClockKind.RESOLVE, target, start)
    now = start
    for run, pause in segments:
        now += run
        if sla.spent(clock, BERLIN, now) >= target:
            break
        clock = sla.pause(clock, BERLIN, now, sla.PauseReason.PENDING_CUSTOMER)
        paused_spent = sla.spent(clock, BERLIN, now + pause)
        assert paused_spent == clock.spent_before  # nothing counts while paused
        now += pause
        clock = sla.resume(clock, BERLIN, now)
    for planned in plan(clock, BERLIN, STEPS, (), now):
        fraction = {s.name: s.fraction for s in STEPS}[planned.name]
        goal = target * fraction.numerator / fraction.denominator
        reached = sla.spent(clock, BERLIN, planned.due_at)
        assert reached >= goal - timedelta(microseconds=1)
        if planned.due_at > now:  # a future milestone is due exactly when the goal is reached
            assert abs(reached - goal) <= timedelta(microseconds=1)


def test_a_fired_threshold_is_never_planned_again_and_a_missed_one_is_due_now():
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)  # Monday
    cal = BusinessCalendar.build("UTC")
    clock = sla.start(sla.ClockKind.RESOLVE, timedelta(hours=8), start)
    clock = sla.pause(clock, cal, start + timedelta(hours=5), sla.PauseReason.PENDING_CUSTOMER)
    resumed_at = start + timedelta(days=1)
    clock = sla.resume(clock, cal, resumed_at)
    planned = {p.name: p.due_at for p in plan(clock, cal, STEPS, ("WARNING_50",), resumed_at)}
    assert set(planned) == {"WARNING_75", "BREACH"}  # 50 % fired before the pause
    assert planned["WARNING_75"] == resumed_at + timedelta(hours=1)
    unfired = {p.name: p.due_at for p in plan(clock, cal, STEPS, (), resumed_at)}
    assert unfired["WARNING_50"] == resumed_at  # passed in an earlier segment, never fired: now
    lowered = sla.retarget(clock, cal, timedelta(hours=4), resumed_at)  # keeps the 5 h spent
    assert {p.name for p in plan(lowered, cal, STEPS, ("WARNING_50",), resumed_at)} == {
        "WARNING_75",
        "BREACH",
    }
    assert all(
        p.due_at == resumed_at for p in plan(lowered, cal, STEPS, ("WARNING_50",), resumed_at)
    )
    assert (
        plan(
            sla.pause(lowered, cal, resumed_at, sla.PauseReason.PENDING_CUSTOMER),
            cal,
            STEPS,
            (),
            resumed_at,
        )
        == []
    )


def test_business_days_follow_the_calendar_and_dst_keeps_wall_hours():
    assert working_day(BERLIN) == timedelta(hours=8)
    split = BusinessCalendar.build(
        "UTC", {d: [("08:00", "12:00"), ("13:00", "17:30")] for d in range(5)}
    )
    assert working_day(split) == timedelta(hours=8, minutes=30)
    # Friday 13:00 CET before the DST change (29 March 2026) + 1 business day = Monday 13:00 CEST
    friday = datetime(2026, 3, 27, 12, tzinfo=UTC)
    assert BERLIN.add(friday, working_day(BERLIN)) == datetime(2026, 3, 30, 11, tzinfo=UTC)
    assert Target(90, TimeUnit.CALENDAR_SECONDS).duration(BERLIN) == timedelta(seconds=90)
    assert Target(2, TimeUnit.CALENDAR_DAYS).calendar(BERLIN) == BusinessCalendar.always()


def test_policy_choice_precedence_then_specificity():
    ten = Target(10, TimeUnit.BUSINESS_DAYS)
    policies = [
        Policy("resolve-default", "RESOLVE", ten),
        Policy(
            "resolve-fast",
            "RESOLVE",
            Target(5, TimeUnit.BUSINESS_DAYS),
            reason_codes=frozenset({"PRICING"}),
            precedence=10,
        ),
        Policy(
            "high-risk",
            "RESOLVE",
            Target(3, TimeUnit.BUSINESS_DAYS),
            risk_classes=frozenset({"HIGH"}),
        ),
        Policy(
            "big",
            "RESOLVE",
            Target(2, TimeUnit.BUSINESS_DAYS),
            amount_currency="EUR",
            min_amount_minor=10_000_00,
            precedence=20,
        ),
        Policy("off", "RESOLVE", Target(1, TimeUnit.BUSINESS_DAYS), precedence=99, active=False),
    ]
    facts = CaseFacts("PRICING", Priority.MEDIUM, "HIGH", "EUR", 500_00)
    assert select_policy(policies, "RESOLVE", facts).id == "resolve-fast"
    assert (
        select_policy(policies, "RESOLVE", CaseFacts("TAX", Priority.LOW, "HIGH", "EUR", 1)).id
        == "high-risk"
    )
    assert (
        select_policy(
            policies, "RESOLVE", CaseFacts("TAX", Priority.LOW, "LOW", "EUR", 2 * 10**6)
        ).id
        == "big"
    )
    assert select_policy(
        policies, "RESOLVE", CaseFacts("TAX", Priority.LOW, "LOW", "USD", 2 * 10**6)
    ).id == ("resolve-default")
    assert [s.fraction for s in thresholds((75, 50, 50))] == [Fraction(1, 2), Fraction(3, 4), 1]


def test_case_state_priorities():
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    running = sla.start(sla.ClockKind.RESOLVE, timedelta(hours=1), start)
    paused = sla.pause(running, BusinessCalendar.always(), start, sla.PauseReason.PENDING_CUSTOMER)
    assert case_state([(running, ())]) is SlaState.ON_TRACK
    assert case_state([(running, ("WARNING_50",))]) is SlaState.WARNED
    assert case_state([(running, ("WARNING_50",)), (paused, ())]) is SlaState.PAUSED
    assert case_state([(paused, ()), (running, ("BREACH",))]) is SlaState.BREACHED
