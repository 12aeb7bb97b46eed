"""Promises to pay: states, the instant a promise is judged, and the judgement itself.

A promise is judged at its deadline: the end of the promised date in the customer's time zone,
plus `tolerance_days` business days of the customer's calendar (working weekdays of the policy,
minus the public holidays of the customer's country: common/sla/calendar.py). Paid at or above the
policy's threshold by then: KEPT; something: PARTIALLY_KEPT; nothing: BROKEN. Instalments of one
plan share their invoices, so payments count toward them in date order (cumulatively).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from common.errors import FailedPrecondition, Violations
from common.money import Money
from common.sla.calendar import BusinessCalendar

MAX_INSTALMENTS = 36
MAX_INVOICES = 100


class PromiseState(StrEnum):
    OPEN = "OPEN"
    KEPT = "KEPT"
    PARTIALLY_KEPT = "PARTIALLY_KEPT"
    BROKEN = "BROKEN"
    WITHDRAWN = "WITHDRAWN"
    CANCELLED = "CANCELLED"


JUDGED = frozenset({PromiseState.KEPT, PromiseState.PARTIALLY_KEPT, PromiseState.BROKEN})


@dataclass(frozen=True)
class PromisePolicy:
    tolerance_days: int
    kept_threshold_percent: int
    escalate_from_level: int
    business_days: frozenset[int]  # Monday = 0


@dataclass(frozen=True)
class Instalment:
    amount: Money
    promised_date: date


@dataclass(frozen=True)
class PromisePlan:
    """One promise, or an instalment plan: several created together on the same invoices."""

    invoice_ids: tuple[str, ...]
    contact_position: int | None
    contact_text: str
    instalments: tuple[Instalment, ...]

    @property
    def currency(self) -> str:
        return self.instalments[0].amount.currency


def check_plan(plan: PromisePlan, today: date, v: Violations, prefix: str) -> None:
    v.require(bool(plan.invoice_ids), f"{prefix}.promise.invoices", "at least one is required")
    v.require(
        len(plan.invoice_ids) == len(set(plan.invoice_ids)),
        f"{prefix}.promise.invoices",
        "must not repeat an invoice",
    )
    v.require(bool(plan.instalments), f"{prefix}.instalments", "at least one is required")
    previous: date | None = None
    for i, item in enumerate(plan.instalments):
        where = f"{prefix}.instalments[{i}]"
        v.require(item.amount.minor > 0, f"{where}.amount", "must be greater than zero")
        v.require(
            item.amount.currency == plan.currency,
            f"{where}.amount.currency_code",
            "every instalment is in the same currency",
        )
        v.require(item.promised_date >= today, f"{where}.promised_date", "must not be past")
        v.require(
            previous is None or item.promised_date > previous,
            f"{where}.promised_date",
            "instalments are on ascending dates",
        )
        previous = item.promised_date


def customer_calendar(time_zone: str, country: str, policy: PromisePolicy) -> BusinessCalendar:
    """Whole days on the policy's business weekdays, minus the country's public holidays (no
    holidays for a country the holidays package does not know)."""
    known = country in holidays_lib.list_supported_countries()
    hours = {day: [("00:00", "24:00")] for day in policy.business_days}
    return BusinessCalendar.build(time_zone or "UTC", hours, country if known else None)


def is_business_day(calendar: BusinessCalendar, day: date) -> bool:
    return bool(calendar.working_hours[day.weekday()]) and not calendar.holidays.is_holiday(day)


def end_of_day(day: date, time_zone: str) -> datetime:
    """The first instant of the next local day (fold 0: a midnight skipped by DST is the
    transition itself, a repeated one its first pass)."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(time_zone)).astimezone(UTC)


def deadline(promised: date, calendar: BusinessCalendar, tolerance_days: int) -> datetime:
    """End of the promised date in the calendar's time zone + `tolerance_days` business days."""
    day, left = promised, tolerance_days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(calendar, day):
            left -= 1
    return end_of_day(day, calendar.time_zone)


def paid_toward(total_paid_minor: int, earlier_instalments_minor: int) -> int:
    """What of the payments on a plan's invoices counts for this instalment: what is left after
    the plan's earlier instalments took theirs."""
    return max(0, total_paid_minor - earlier_instalments_minor)


def judge(amount_minor: int, paid_minor: int, policy: PromisePolicy) -> PromiseState:
    if paid_minor * 100 >= amount_minor * policy.kept_threshold_percent:
        return PromiseState.KEPT
    return PromiseState.PARTIALLY_KEPT if paid_minor > 0 else PromiseState.BROKEN


def kept_early(amount_minor: int, paid_minor: int) -> bool:
    """Fully paid before its deadline: KEPT at once, without waiting for the deadline."""
    return paid_minor >= amount_minor


def after_reversal(
    state: PromiseState,
    amount_minor: int,
    paid_minor: int,
    deadline_at: datetime,
    now: datetime,
    policy: PromisePolicy,
) -> PromiseState:
    """A judged promise whose payments were partly taken back: before its deadline it was kept
    early, and is OPEN again unless still paid in full; at or after it, it is judged anew on what
    still counts. Equal to `state` when the judgement stands."""
    if now < deadline_at:
        return PromiseState.KEPT if kept_early(amount_minor, paid_minor) else PromiseState.OPEN
    return judge(amount_minor, paid_minor, policy)


def escalates(invoice_levels: Iterable[int], policy: PromisePolicy) -> bool:
    """A broken promise goes to the team lead once one of its invoices reaches the level."""
    return max(invoice_levels, default=0) >= policy.escalate_from_level


def end_open(state: PromiseState, target: PromiseState) -> PromiseState:
    """WITHDRAWN or CANCELLED, from OPEN only."""
    if state is not PromiseState.OPEN:
        raise FailedPrecondition(
            f"a {state.value} promise cannot be {target.value.lower()}", reason="PROMISE_NOT_OPEN"
        )
    return target


def kept_rate_percent(kept: int, judged: int) -> Decimal | None:
    """kept ÷ judged × 100 to 0.01 (ROUND_HALF_EVEN); None before any judgement."""
    if judged == 0:
        return None
    return (Decimal(kept) * 100 / judged).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
