"""Which clock milestones (warnings, breach) are still to fire, and when; the case's SLA state.

Built on common.sla's clock arithmetic. Each threshold fires at most once per clock: a threshold
already fired is never planned again, even if a re-target moves it. A threshold the clock has
already passed without firing (a lowered target, or one crossed in an earlier segment) is due at
once, so a warning is late rather than lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from common.sla.clock import Clock, ClockStatus, Threshold


class SlaState(StrEnum):
    ON_TRACK = "ON_TRACK"
    WARNED = "WARNED"
    BREACHED = "BREACHED"
    PAUSED = "PAUSED"


@dataclass(frozen=True)
class Planned:
    name: str
    due_at: datetime


def plan(
    clock: Clock,
    cal: BusinessCalendar,
    steps: tuple[Threshold, ...],
    fired: Iterable[str],
    now: datetime,
) -> list[Planned]:
    if clock.status is not ClockStatus.RUNNING:
        return []
    done = set(fired)
    spent = sla.spent(clock, cal, now)
    result = []
    for step in steps:
        if step.name in done:
            continue
        due = sla.due_at(clock, cal, step.fraction)
        if due is None:
            goal = _goal(clock.target, step.fraction)
            due = now if spent >= goal else None  # passed in an earlier segment, never fired
        if due is not None:
            result.append(Planned(step.name, due))
    return result


def _goal(target: timedelta, fraction) -> timedelta:
    """fraction × target rounded up to the microsecond, as common.sla counts it."""
    micro = timedelta(microseconds=1)
    return math.ceil(fraction * (target // micro)) * micro


def is_breach(name: str) -> bool:
    return name == "BREACH"


def case_state(clocks: Iterable[tuple[Clock, Iterable[str]]]) -> SlaState:
    """BREACHED beats PAUSED beats WARNED beats ON_TRACK; cancelled clocks do not count."""
    state = SlaState.ON_TRACK
    for clock, fired in clocks:
        if clock.status is ClockStatus.CANCELLED:
            continue
        names = set(fired)
        if "BREACH" in names:
            return SlaState.BREACHED
        if clock.status is ClockStatus.PAUSED:
            state = SlaState.PAUSED
        elif names and state is SlaState.ON_TRACK:
            state = SlaState.WARNED
    return state


@dataclass(frozen=True)
class ClockReading:
    """A clock as a person reads it at `now`."""

    due_at: datetime | None
    spent: timedelta
    remaining: timedelta


def read(clock: Clock, cal: BusinessCalendar, now: datetime) -> ClockReading:
    spent = sla.spent(clock, cal, now)
    due = None
    since = clock.running_since if clock.status is ClockStatus.RUNNING else None
    if since is not None and clock.target > clock.spent_before:
        due = cal.add(since, clock.target - clock.spent_before)
    if clock.status is ClockStatus.RUNNING and due is None:
        due = clock.running_since  # already over target when this segment began
    return ClockReading(due, spent, clock.target - spent)
