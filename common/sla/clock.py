"""SLA clocks as immutable values, and the pure arithmetic that moves them.

A clock counts business time on the BusinessCalendar given to each call; it does not keep one, so
the service decides whose calendar applies (team, customer). Time is always passed in. Time spent
is `spent_before` (closed running segments) plus business time since `running_since`, so pauses
are excluded before any due time is computed, across weekends and holidays alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from common.errors import FailedPrecondition, InvalidArgument
from common.sla.calendar import BusinessCalendar, as_utc

ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)


class ClockKind(StrEnum):
    ACKNOWLEDGE = "ACKNOWLEDGE"  # first response; never paused
    RESOLVE = "RESOLVE"
    RESPONSE = "RESPONSE"  # the receiving team's OLA on an escalation


class ClockStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    MET = "MET"
    CANCELLED = "CANCELLED"


class PauseReason(StrEnum):
    PENDING_CUSTOMER = "PENDING_CUSTOMER"
    PENDING_THIRD_PARTY = "PENDING_THIRD_PARTY"


@dataclass(frozen=True)
class Threshold:
    name: str
    fraction: Fraction  # of the target


@dataclass(frozen=True)
class Milestone:
    name: str
    fraction: Fraction
    due_at: datetime


# Warnings at 50 % and 75 %, breach at 100 %: defaults as data, callers pass their own.
DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("WARNING_50", Fraction(1, 2)),
    Threshold("WARNING_75", Fraction(3, 4)),
    Threshold("BREACH", Fraction(1)),
)
_STOPPED = (ClockStatus.MET, ClockStatus.CANCELLED)
_INSTANTS = ("started_at", "running_since", "paused_since", "stopped_at")
# Which of running_since, paused_since, pause_reason and stopped_at a clock has, by status.
_SHAPES = {
    ClockStatus.RUNNING: (True, False, False, False),
    ClockStatus.PAUSED: (False, True, True, False),
}
_STOPPED_SHAPE = (False, False, False, True)


@dataclass(frozen=True)
class Clock:
    kind: ClockKind
    target: timedelta  # business time on the calendar used (calendar time on always())
    status: ClockStatus
    started_at: datetime
    spent_before: timedelta  # business time of the closed running segments
    running_since: datetime | None  # start of the current running segment, only when RUNNING
    paused_total: timedelta  # wall time spent paused, for reporting
    paused_since: datetime | None
    pause_reason: PauseReason | None
    stopped_at: datetime | None
    pausable: bool  # False for ACKNOWLEDGE

    def __post_init__(self) -> None:
        # Clocks are rebuilt from stored rows: normalise enums and instants (to UTC), and refuse
        # a shape the functions below never produce. Values already normalised (what rows and
        # the functions below give) are left alone: a listed page builds ~150 clocks.
        if type(self.kind) is not ClockKind:
            object.__setattr__(self, "kind", ClockKind(self.kind))
        if type(self.status) is not ClockStatus:
            object.__setattr__(self, "status", ClockStatus(self.status))
        if self.pause_reason is not None and type(self.pause_reason) is not PauseReason:
            object.__setattr__(self, "pause_reason", PauseReason(self.pause_reason))
        for name in _INSTANTS:
            value = getattr(self, name)
            if value is not None and (type(value) is not datetime or value.tzinfo is not UTC):
                object.__setattr__(self, name, as_utc(value, name))
        shape = (
            self.running_since is not None,
            self.paused_since is not None,
            self.pause_reason is not None,
            self.stopped_at is not None,
        )
        expected = _SHAPES.get(self.status, _STOPPED_SHAPE)
        negative = min(self.spent_before, self.paused_total) < ZERO or self.target <= ZERO
        acknowledge_pausable = self.pausable and self.kind is ClockKind.ACKNOWLEDGE
        if shape != expected or negative or acknowledge_pausable:
            raise ValueError(f"inconsistent clock: {self!r}")

    @property
    def last_change(self) -> datetime:
        """The instant of the latest transition; later transitions may not go back before it."""
        return self.stopped_at or self.paused_since or self.running_since or self.started_at


def start(kind: ClockKind, target: timedelta, at: datetime, pausable: bool | None = None) -> Clock:
    """A running clock. Only ACKNOWLEDGE defaults to (and must stay) not pausable."""
    kind = _enum(ClockKind, kind, "kind")
    _check_target(target)
    at = as_utc(at, "at")
    if pausable is None:
        pausable = kind is not ClockKind.ACKNOWLEDGE
    elif pausable and kind is ClockKind.ACKNOWLEDGE:
        raise InvalidArgument.of("pausable", "the acknowledge clock is never paused")
    return Clock(kind, target, ClockStatus.RUNNING, at, ZERO, at, ZERO, None, None, None, pausable)


def pause(clock: Clock, cal: BusinessCalendar, at: datetime, reason: PauseReason) -> Clock:
    """Close the running segment; time stops counting until resume(). A reason is required."""
    reason = _enum(PauseReason, reason, "reason")
    if not clock.pausable:
        raise FailedPrecondition(
            f"a {clock.kind} clock cannot be paused", reason="CLOCK_NOT_PAUSABLE"
        )
    _require(clock, ClockStatus.RUNNING, "pause")
    at = _transition_time(clock, at)
    return replace(
        clock,
        status=ClockStatus.PAUSED,
        spent_before=spent(clock, cal, at),
        running_since=None,
        paused_since=at,
        pause_reason=reason,
    )


def resume(clock: Clock, cal: BusinessCalendar, at: datetime) -> Clock:
    """Open a new running segment at `at`; the pause's wall time goes to paused_total."""
    _require(clock, ClockStatus.PAUSED, "resume")
    at = _transition_time(clock, at)
    assert clock.paused_since is not None  # every PAUSED clock has one (Clock.__post_init__)
    return replace(
        clock,
        status=ClockStatus.RUNNING,
        running_since=at,
        paused_total=clock.paused_total + (at - clock.paused_since),
        paused_since=None,
        pause_reason=None,
    )


def retarget(clock: Clock, cal: BusinessCalendar, new_target: timedelta, at: datetime) -> Clock:
    """A new target, keeping time spent and paused. The running segment is kept as it is, so a
    lower target whose thresholds this segment already passed yields due instants in the past
    (a sweeper fires them at once) rather than none. `cal` is unused; kept for a uniform API."""
    if clock.status in _STOPPED:
        raise FailedPrecondition(f"cannot retarget a {clock.status} clock", reason="CLOCK_STOPPED")
    _check_target(new_target, "new_target")
    _transition_time(clock, at)
    return replace(clock, target=new_target)


def stop(
    clock: Clock, cal: BusinessCalendar, at: datetime, status: ClockStatus = ClockStatus.MET
) -> Clock:
    """End a running or paused clock as MET or CANCELLED; its spent time is frozen."""
    status = _enum(ClockStatus, status, "status")
    if status not in _STOPPED:
        raise InvalidArgument.of("status", "a clock stops as MET or CANCELLED")
    if clock.status in _STOPPED:
        raise FailedPrecondition(f"the clock is already {clock.status}", reason="CLOCK_STOPPED")
    at = _transition_time(clock, at)
    paused = ZERO
    if clock.status is ClockStatus.PAUSED:
        assert clock.paused_since is not None  # every PAUSED clock has one (Clock.__post_init__)
        paused = at - clock.paused_since
    return replace(
        clock,
        status=status,
        spent_before=spent(clock, cal, at),
        running_since=None,
        paused_total=clock.paused_total + paused,
        paused_since=None,
        pause_reason=None,
        stopped_at=at,
    )


def spent(clock: Clock, cal: BusinessCalendar, at: datetime) -> timedelta:
    """Business time counted up to `at` (instants before the running segment add nothing)."""
    at = as_utc(at, "at")
    if clock.status is not ClockStatus.RUNNING:
        return clock.spent_before
    assert clock.running_since is not None  # every RUNNING clock has one (Clock.__post_init__)
    return clock.spent_before + cal.elapsed(clock.running_since, at)


def remaining(clock: Clock, cal: BusinessCalendar, at: datetime) -> timedelta:
    """Business time left until the target; negative once breached."""
    return clock.target - spent(clock, cal, at)


def due_at(
    clock: Clock, cal: BusinessCalendar, fraction: Fraction | int = Fraction(1)
) -> datetime | None:
    """The instant a running clock reaches `fraction` × target; None unless RUNNING.

    If the current running segment reaches it, that instant is returned even when it is already
    past (so a caller can fire it now). If an earlier segment reached it, the result is None: that
    threshold belongs to history and must not fire again after a resume.
    """
    goal = _share(clock.target, fraction)
    if clock.status is not ClockStatus.RUNNING:
        return None
    needed = goal - clock.spent_before
    if needed <= ZERO:
        return None
    assert clock.running_since is not None  # every RUNNING clock has one (Clock.__post_init__)
    return cal.add(clock.running_since, needed)


def milestones(
    clock: Clock, cal: BusinessCalendar, thresholds: tuple[Threshold, ...] = DEFAULT_THRESHOLDS
) -> list[Milestone]:
    """Due instants of the thresholds still ahead of (or inside) the running segment, in order."""
    found = []
    for threshold in thresholds:
        due = due_at(clock, cal, threshold.fraction)
        if due is not None:
            found.append(Milestone(threshold.name, Fraction(threshold.fraction), due))
    return sorted(found, key=lambda m: (m.due_at, m.fraction))


def _share(target: timedelta, fraction: Fraction | int) -> timedelta:
    """fraction × target, rounded up to the microsecond: the first instant it is truly reached."""
    try:
        fraction = Fraction(fraction)
    except (TypeError, ValueError):
        raise InvalidArgument.of("fraction", f"must be a number, got {fraction!r}") from None
    if fraction <= 0:
        raise InvalidArgument.of("fraction", f"must be greater than 0, got {fraction}")
    return math.ceil(fraction * (target // _MICROSECOND)) * _MICROSECOND


def _check_target(target: timedelta, field_name: str = "target") -> None:
    if not isinstance(target, timedelta) or target <= ZERO:
        raise InvalidArgument.of(field_name, f"must be a positive duration, got {target!r}")


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: str, field_name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(kind)
        raise InvalidArgument.of(field_name, f"must be one of {allowed}, got {value!r}") from None


def _require(clock: Clock, status: ClockStatus, action: str) -> None:
    if clock.status is not status:
        raise FailedPrecondition(
            f"cannot {action} a {clock.status} clock", reason=f"CLOCK_NOT_{status}"
        )


def _transition_time(clock: Clock, at: datetime) -> datetime:
    at = as_utc(at, "at")
    if at < clock.last_change:
        raise InvalidArgument.of(
            "at", f"{at} is before the clock's last change {clock.last_change}"
        )
    return at
