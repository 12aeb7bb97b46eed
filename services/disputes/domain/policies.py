"""SLA policies and calendars as data: which target a clock gets, and on which calendar it counts.

For each clock kind the matching active policy with the highest precedence wins, then the one
with the most criteria, then the lowest id, so the choice is deterministic and explainable.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from common.errors import FailedPrecondition
from common.sla.calendar import BusinessCalendar
from common.sla.clock import Threshold

DEFAULT_CALENDAR_ID = "default"
DEFAULT_WARNINGS = (50, 75)
# Milestones that raise an escalation unless a policy says otherwise: the breach; warnings are
# events for watchers, metrics and the worklist.
DEFAULT_ESCALATING = frozenset({"BREACH"})


class Priority(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.CRITICAL: 4}


class TimeUnit(StrEnum):
    BUSINESS_DAYS = "BUSINESS_DAYS"
    BUSINESS_HOURS = "BUSINESS_HOURS"
    BUSINESS_MINUTES = "BUSINESS_MINUTES"
    CALENDAR_DAYS = "CALENDAR_DAYS"
    CALENDAR_HOURS = "CALENDAR_HOURS"
    CALENDAR_MINUTES = "CALENDAR_MINUTES"
    CALENDAR_SECONDS = "CALENDAR_SECONDS"

    @property
    def business(self) -> bool:
        return self.name.startswith("BUSINESS")


_UNIT = {
    "DAYS": timedelta(days=1),
    "HOURS": timedelta(hours=1),
    "MINUTES": timedelta(minutes=1),
    "SECONDS": timedelta(seconds=1),
}


@dataclass(frozen=True)
class Target:
    value: int
    unit: TimeUnit

    def duration(self, calendar: BusinessCalendar) -> timedelta:
        """Business days last the calendar's usual working day (8 h for 09:00–17:00)."""
        unit = TimeUnit(self.unit)
        if unit is TimeUnit.BUSINESS_DAYS:
            return self.value * working_day(calendar)
        return self.value * _UNIT[unit.name.split("_")[1]]

    def calendar(self, business: BusinessCalendar) -> BusinessCalendar:
        return business if TimeUnit(self.unit).business else BusinessCalendar.always()


def working_day(calendar: BusinessCalendar) -> timedelta:
    """The most common non-empty weekday length of the calendar's week (ties: the longer)."""
    lengths = []
    for day in calendar.working_hours:
        total = timedelta(0)
        for start, end in day:
            s = timedelta(hours=start.hour, minutes=start.minute, seconds=start.second)
            e = (
                timedelta(days=1)
                if (end.hour, end.minute, end.second) == (0, 0, 0)
                else timedelta(hours=end.hour, minutes=end.minute, seconds=end.second)
            )
            total += e - s
        if total:
            lengths.append(total)
    counts = Counter(lengths)
    return max(counts, key=lambda length: (counts[length], length))


def escalating_after(rules: dict[str, bool]) -> frozenset[str]:
    """The milestones that escalate: each named in `rules` as it says, the others as the
    default."""
    kept = {n for n in DEFAULT_ESCALATING if rules.get(n, True)}
    return frozenset(kept | {n for n, escalate in rules.items() if escalate})


def thresholds(warning_percents: tuple[int, ...]) -> tuple[Threshold, ...]:
    warnings = tuple(
        Threshold(f"WARNING_{p}", Fraction(p, 100)) for p in sorted(set(warning_percents))
    )
    return (*warnings, Threshold("BREACH", Fraction(1)))


@dataclass(frozen=True)
class CaseFacts:
    reason_code: str
    priority: Priority
    risk_class: str
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class Policy:
    id: str
    clock: str  # ACKNOWLEDGE | RESOLVE
    target: Target
    reason_codes: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    risk_classes: frozenset[str] = frozenset()
    amount_currency: str | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    warning_percents: tuple[int, ...] = DEFAULT_WARNINGS
    calendar_id: str | None = None
    precedence: int = 0
    active: bool = True
    escalating: frozenset[str] = DEFAULT_ESCALATING  # milestone names

    @property
    def specificity(self) -> int:
        bounded = self.min_amount_minor is not None or self.max_amount_minor is not None
        return sum(map(bool, (self.reason_codes, self.priorities, self.risk_classes, bounded)))

    def matches(self, case: CaseFacts) -> bool:
        if not self.active:
            return False
        if self.reason_codes and case.reason_code not in self.reason_codes:
            return False
        if self.priorities and case.priority not in self.priorities:
            return False
        if self.risk_classes and case.risk_class not in self.risk_classes:
            return False
        if self.min_amount_minor is not None or self.max_amount_minor is not None:
            if self.amount_currency != case.currency:
                return False
            if self.min_amount_minor is not None and case.amount_minor < self.min_amount_minor:
                return False
            if self.max_amount_minor is not None and case.amount_minor >= self.max_amount_minor:
                return False
        return True


def select_policy(policies: list[Policy], clock: str, case: CaseFacts) -> Policy:
    candidates = [p for p in policies if p.clock == clock and p.matches(case)]
    if not candidates:
        raise FailedPrecondition(
            f"no active SLA policy applies to the {clock} clock of this case",
            reason="NO_SLA_POLICY",
            metadata={"clock": clock, "reason_code": case.reason_code},
        )
    return min(candidates, key=lambda p: (-p.precedence, -p.specificity, p.id))


@dataclass(frozen=True)
class CalendarSpec:
    id: str
    time_zone: str
    hours: dict[int, list[tuple[str, str]]] | None = None  # None: Mon–Fri 09:00–17:00
    country: str | None = None
    subdivision: str | None = None
    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    customer_id: str | None = None
    team: str | None = None
    version: int = 1
    display_name: str = field(default="", compare=False)

    def build(self) -> BusinessCalendar:
        return BusinessCalendar.build(
            self.time_zone,
            self.hours,
            self.country,
            self.subdivision,
            self.extra_holidays,
            self.extra_working_days,
        )


def calendar_id_for(policy: Policy, customer_calendar_id: str | None) -> str:
    """The customer's own calendar wins, then the policy's, then the default."""
    return customer_calendar_id or policy.calendar_id or DEFAULT_CALENDAR_ID
