"""Figures every service's reports share (docs/reports.md): the formula version printed on every
result, percentages, the carrying cost of disputed money, and durations' median and p90. Exact
Decimal arithmetic, rounded once at the end with ROUND_HALF_EVEN; a zero denominator is None
("not defined"), never 0."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from common.money import currency_exponent

FORMULA_VERSION = "2026.1"  # printed on every report result; change it with any formula
DAYS = Decimal("0.1")  # days and hours alike
PERCENT = Decimal("0.01")
PRECISION = 60  # far beyond any ledger: the only rounding is the final one
DAY_S, HOUR_S = 86400, 3600
_HUNDRED = Decimal(100)


def rounded(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def ratio(numerator: Decimal, denominator: Decimal, scale: Decimal | int) -> Decimal | None:
    if denominator == 0:
        return None
    with localcontext(prec=PRECISION):
        return numerator / denominator * scale


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part ÷ whole × 100 to 0.01, e.g. SLA compliance = met ÷ (met + breached) (§10)."""
    value = ratio(Decimal(part), Decimal(whole), _HUNDRED)
    return None if value is None else rounded(value, PERCENT)


def carrying_cost(
    disputes: Iterable[tuple[Decimal, int]], annual_rate: Decimal, currency: str
) -> Decimal:
    """Σ amount × days open × annual rate ÷ 365 over (amount, days open) pairs in one currency,
    summed exactly and rounded once to the currency's minor unit (§9). `annual_rate` is a
    fraction: 0.08 for 8 %."""
    with localcontext(prec=PRECISION):
        total = sum((amount * days for amount, days in disputes), Decimal(0))
        cost = total * annual_rate / 365
    return rounded(cost, Decimal(1).scaleb(-currency_exponent(currency)))


def median(durations_s: Sequence[int], unit_s: int = DAY_S) -> Decimal | None:
    """The median of durations in seconds, in `unit_s` (days or hours) to 0.1: the middle one,
    or the mean of the two middle ones (§11)."""
    if not durations_s:
        return None
    ordered = sorted(durations_s)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        seconds = Decimal(ordered[middle])
    else:
        seconds = (Decimal(ordered[middle - 1]) + Decimal(ordered[middle])) / 2
    return rounded(seconds / unit_s, DAYS)


def p90(durations_s: Sequence[int], unit_s: int = DAY_S) -> Decimal | None:
    """The 90th percentile by nearest rank: the ⌈0.9 n⌉-th shortest, in `unit_s` to 0.1 (§11)."""
    if not durations_s:
        return None
    ordered = sorted(durations_s)
    rank = math.ceil(len(ordered) * 9 / 10)
    return rounded(Decimal(ordered[rank - 1]) / unit_s, DAYS)
