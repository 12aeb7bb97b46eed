"""Collection KPIs, exact: Decimal arithmetic, one currency per figure, rounded once at the end
(ROUND_HALF_EVEN: days to 0.1, percentages to 0.01, money to the currency's minor unit).
docs/reports.md writes out each formula with the worked example its test checks. A figure whose
denominator is zero is None ("not defined"), never 0 or infinity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

# Shared with the other services' reports (common/reports/figures.py), re-exported here.
from common.reports.figures import FORMULA_VERSION as FORMULA_VERSION
from common.reports.figures import carrying_cost as carrying_cost

_DAYS = Decimal("0.1")
_PERCENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_PRECISION = 60  # far beyond any ledger: the only rounding is the final one


class SalesHistoryTooShort(ValueError):
    """Countback ran out of months while AR remained: the caller must pass more months."""


@dataclass(frozen=True)
class MonthSales:
    credit_sales: Decimal  # invoices dated in the month
    days: int  # calendar days in the month


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def _ratio(numerator: Decimal, denominator: Decimal, scale: Decimal | int) -> Decimal | None:
    if denominator == 0:
        return None
    with localcontext(prec=_PRECISION):
        return numerator / denominator * scale


def countback_dso(ar: Decimal, months: Sequence[MonthSales]) -> Decimal:
    """Days of the most recent credit sales that period-end AR amounts to (docs/reports.md §2).
    `months` runs newest first: each month whose sales AR still covers adds all its days, the
    month that exhausts AR adds remaining ÷ its sales × its days."""
    remaining, days = ar, Decimal(0)
    with localcontext(prec=_PRECISION):
        for month in months:
            if remaining <= 0:
                break
            if remaining >= month.credit_sales:
                days += month.days
                remaining -= month.credit_sales
            else:
                days += remaining / month.credit_sales * month.days
                remaining = Decimal(0)
    if remaining > 0:
        raise SalesHistoryTooShort(f"AR exceeds the credit sales of the {len(months)} months")
    return _round(days, _DAYS)


def simple_dso(ar: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """AR ÷ credit sales of the period × days in the period (§3)."""
    value = _ratio(ar, credit_sales, days)
    return None if value is None else _round(value, _DAYS)


def best_possible_dso(current_ar: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Simple DSO of the AR not yet due (§4): what DSO would be if nothing were late."""
    return simple_dso(current_ar, credit_sales, days)


def average_days_delinquent(
    ar: Decimal, current_ar: Decimal, credit_sales: Decimal, days: int
) -> Decimal | None:
    """Simple DSO − best-possible DSO, of the rounded figures so the printed three add up (§5)."""
    dso = simple_dso(ar, credit_sales, days)
    best = best_possible_dso(current_ar, credit_sales, days)
    return None if dso is None or best is None else dso - best


def collection_effectiveness_index(
    opening_ar: Decimal,
    credit_sales: Decimal,
    closing_total_ar: Decimal,
    closing_current_ar: Decimal,
) -> Decimal | None:
    """CEI in percent (§6): of what could have been collected in the period, the share that was.
    (opening AR + credit sales − closing total AR) ÷ (opening AR + credit sales − closing current
    AR) × 100; credit sales = invoices dated in the period, current = not yet due."""
    collectible = opening_ar + credit_sales
    value = _ratio(collectible - closing_total_ar, collectible - closing_current_ar, _HUNDRED)
    return None if value is None else _round(value, _PERCENT)


def share_over_90_days(ar_over_90_days: Decimal, total_ar: Decimal) -> Decimal | None:
    """Percent of AR more than 90 days past due (§7)."""
    value = _ratio(ar_over_90_days, total_ar, _HUNDRED)
    return None if value is None else _round(value, _PERCENT)


def promise_kept_rate(kept: int, judged: int) -> Decimal | None:
    """Percent of judged promises (kept + partially kept + broken; open and withdrawn ones are
    not judged) that were kept (§8)."""
    if not 0 <= kept <= judged:
        raise ValueError("kept promises are between 0 and the judged ones")
    value = _ratio(Decimal(kept), Decimal(judged), _HUNDRED)
    return None if value is None else _round(value, _PERCENT)
