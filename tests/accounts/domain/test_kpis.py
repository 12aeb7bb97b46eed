"""The KPI formulas against the worked examples of docs/reports.md (each test names its section
and uses its numbers), the stated rounding, and properties that must hold for any books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.accounts.domain.kpis import (
    MonthSales,
    SalesHistoryTooShort,
    average_days_delinquent,
    best_possible_dso,
    carrying_cost,
    collection_effectiveness_index,
    countback_dso,
    promise_kept_rate,
    share_over_90_days,
    simple_dso,
)

D = Decimal


def test_section_2_countback_dso_worked_example():
    months = [MonthSales(D(100_000), 30), MonthSales(D(80_000), 30), MonthSales(D(70_000), 30)]
    assert countback_dso(D(212_000), months) == D("73.7")


def test_section_2_countback_dso_within_the_latest_month():
    assert countback_dso(D(50_000), [MonthSales(D(60_000), 31)]) == D("25.8")


def test_section_2_countback_refuses_to_guess_beyond_the_history_given():
    with pytest.raises(SalesHistoryTooShort):
        countback_dso(D(212_000), [MonthSales(D(100_000), 30), MonthSales(D(80_000), 30)])


def test_section_2_a_month_without_sales_adds_its_days_and_no_ar_is_zero_days():
    months = [MonthSales(D(0), 31), MonthSales(D(10_000), 30)]
    assert countback_dso(D(5_000), months) == D("46.0")  # 31 + 5,000 ÷ 10,000 × 30
    assert countback_dso(D(0), months) == D("0.0")
    assert countback_dso(D(-100), months) == D("0.0")  # a credit balance: nothing outstanding


def test_section_3_simple_dso_worked_example():
    assert simple_dso(D(212_000), D(250_000), 90) == D("76.3")


def test_section_4_best_possible_dso_worked_example():
    assert best_possible_dso(D(120_000), D(250_000), 90) == D("43.2")


def test_section_5_average_days_delinquent_worked_example():
    assert average_days_delinquent(D(212_000), D(120_000), D(250_000), 90) == D("33.1")


def test_section_6_cei_worked_example():
    cei = collection_effectiveness_index(D(200_000), D(250_000), D(212_000), D(120_000))
    assert cei == D("72.12")


def test_section_7_share_over_90_days_worked_example():
    assert share_over_90_days(D(31_750), D(212_000)) == D("14.98")


def test_section_8_promise_kept_rate_worked_example():
    kept, partially_kept, broken = 37, 5, 3  # 2 withdrawn: not judged
    assert promise_kept_rate(kept, kept + partially_kept + broken) == D("82.22")


def test_section_9_carrying_cost_worked_example_rounds_the_sum_once():
    rate = D("0.08")
    assert carrying_cost([(D("12500.00"), 45)], rate, "EUR") == D("123.29")
    assert carrying_cost([(D("3000.00"), 10)], rate, "EUR") == D("6.58")
    assert carrying_cost([(D("12500.00"), 45), (D("3000.00"), 10)], rate, "EUR") == D("129.86")


def test_section_9_carrying_cost_uses_the_currency_minor_unit():
    assert carrying_cost([(D(1_000_000), 30)], D("0.05"), "JPY") == D("4110")  # 4109.589…
    assert carrying_cost([(D("1000.000"), 30)], D("0.05"), "KWD") == D("4.110")
    assert carrying_cost([], D("0.05"), "EUR") == D("0.00")


def test_section_1_ties_round_half_even():
    assert simple_dso(D("73.75"), D(1), 1) == D("73.8")
    assert simple_dso(D("73.65"), D(1), 1) == D("73.6")
    assert share_over_90_days(D("82.125"), D(100)) == D("82.12")
    assert share_over_90_days(D("82.135"), D(100)) == D("82.14")


def test_section_1_a_zero_denominator_is_not_defined():
    assert simple_dso(D(1), D(0), 30) is None
    assert best_possible_dso(D(1), D(0), 30) is None
    assert average_days_delinquent(D(1), D(0), D(0), 30) is None
    assert collection_effectiveness_index(D(0), D(0), D(0), D(0)) is None
    assert share_over_90_days(D(0), D(0)) is None
    assert promise_kept_rate(0, 0) is None


@pytest.mark.parametrize(("kept", "judged"), [(-1, 3), (4, 3)])
def test_impossible_promise_counts_are_refused(kept, judged):
    with pytest.raises(ValueError):
        promise_kept_rate(kept, judged)


amounts = st.decimals(min_value=0, max_value=10**9, places=2)
positive = st.decimals(min_value=D("0.01"), max_value=10**9, places=2)


@given(amounts, positive, st.integers(28, 31))
def test_countback_within_one_month_is_simple_dso_of_that_month(ar, sales, days):
    months = [MonthSales(sales, days), MonthSales(ar + 1, 30)]  # the history always suffices
    if ar <= sales:
        assert countback_dso(ar, months) == simple_dso(ar, sales, days)
    else:
        assert days <= countback_dso(ar, months) <= days + 30


@given(amounts, amounts, positive, st.integers(1, 366))
def test_dso_is_best_possible_plus_days_delinquent(total, current, sales, days):
    current = min(current, total)
    delinquent = average_days_delinquent(total, current, sales, days)
    assert simple_dso(total, sales, days) == best_possible_dso(current, sales, days) + delinquent
    assert delinquent >= 0


@given(amounts, amounts, amounts)
def test_cei_is_100_when_nothing_closing_is_past_due(opening, sales, closing):
    closing = min(closing, opening + sales)
    cei = collection_effectiveness_index(opening, sales, closing, closing)
    assert cei in (None, D("100.00"))
