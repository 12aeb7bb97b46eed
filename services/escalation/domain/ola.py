"""The receiving team's response clock (OLA): common.sla arithmetic plus the record of which
milestones have fired, so each warning and the breach fire exactly once, even across pauses."""

from __future__ import annotations

from datetime import datetime, timedelta

from common.sla import DEFAULT_THRESHOLDS, BusinessCalendar, Clock, ClockKind, ClockStatus
from common.sla import clock as sla
from services.escalation.domain.states import ClockEffect

BREACH = "BREACH"
MILESTONES = tuple(t.name for t in DEFAULT_THRESHOLDS)  # WARNING_50, WARNING_75, BREACH
# The team waits on the raiser, which is someone outside the team: the nearest pause reason.
PAUSE_REASON = sla.PauseReason.PENDING_THIRD_PARTY


def start(target: timedelta, at: datetime) -> Clock:
    return sla.start(ClockKind.RESPONSE, target, at)


def unfired(clock: Clock, cal: BusinessCalendar, fired: tuple[str, ...]) -> list[sla.Milestone]:
    return [m for m in sla.milestones(clock, cal) if m.name not in fired]


def due(clock: Clock, cal: BusinessCalendar, fired: tuple[str, ...], now: datetime) -> list:
    """Milestones reached by `now` that have not fired yet, oldest first."""
    return [m for m in unfired(clock, cal, fired) if m.due_at <= now]


def next_due(clock: Clock, cal: BusinessCalendar, fired: tuple[str, ...]) -> datetime | None:
    """When the sweeper must look at this clock next; None when nothing is left to fire."""
    ahead = unfired(clock, cal, fired)
    return ahead[0].due_at if ahead else None


def breach_time(
    clock: Clock, cal: BusinessCalendar, fired: tuple[str, ...], previous: datetime | None
) -> datetime | None:
    """The due-by instant shown in queues: when the target is (or was) reached while running."""
    if clock.status is not ClockStatus.RUNNING:
        return None
    found = sla.due_at(clock, cal)
    return found if found is not None else (previous if BREACH in fired else None)


def apply(clock: Clock, cal: BusinessCalendar, effect: ClockEffect, at: datetime) -> Clock:
    """The clock after a workflow transition; effects that do not apply leave it unchanged."""
    if effect is ClockEffect.PAUSE and clock.status is ClockStatus.RUNNING:
        return sla.pause(clock, cal, at, PAUSE_REASON)
    if effect is ClockEffect.RESUME and clock.status is ClockStatus.PAUSED:
        return sla.resume(clock, cal, at)
    if effect is ClockEffect.MEET and clock.status in (ClockStatus.RUNNING, ClockStatus.PAUSED):
        return sla.stop(clock, cal, at, ClockStatus.MET)
    return clock


def retarget(clock: Clock, cal: BusinessCalendar, target: timedelta, at: datetime) -> Clock:
    if clock.status in (ClockStatus.MET, ClockStatus.CANCELLED) or clock.target == target:
        return clock
    return sla.retarget(clock, cal, target, at)


def remaining(clock: Clock, cal: BusinessCalendar, at: datetime) -> timedelta:
    return sla.remaining(clock, cal, at)
