"""Money: exact minor units, strict parsing, no arithmetic across currencies, never a float."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InvalidArgument
from common.money import (
    MINOR_UNITS,
    CurrencyMismatch,
    Money,
    MoneyBag,
    convert,
    currency_exponent,
    sum_money,
    totals_by_currency,
)

CURRENCIES = sorted(MINOR_UNITS)
currencies = st.sampled_from(CURRENCIES)
minors = st.integers(min_value=-(2**63 - 1), max_value=2**63 - 1)  # a BIGINT column


@st.composite
def money(draw, currency=None):
    return Money(draw(minors), currency or draw(currencies))


@st.composite
def two_currencies(draw):
    first = draw(currencies)
    second = draw(currencies.filter(lambda c: c != first))
    return first, second


# --- the ISO-4217 table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("CLP", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("LYD", 3),
        ("IQD", 3),
        ("CLF", 4),
        ("UYW", 4),
        ("XOF", 0),
        ("SLE", 2),
        ("ZWG", 2),
    ],
)
def test_known_exponents(code, exponent):
    assert currency_exponent(code) == exponent


@pytest.mark.parametrize("code", ["XXX", "usd", "US", "USDD", "", "HRK", "XAU", None, 840])
def test_unknown_currency_is_invalid_argument(code):
    with pytest.raises(InvalidArgument) as err:
        currency_exponent(code)
    assert err.value.violations[0].field == "currency"


def test_table_is_well_formed():
    assert len(MINOR_UNITS) > 150
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in MINOR_UNITS)
    assert set(MINOR_UNITS.values()) == {0, 2, 3, 4}


# --- parsing and printing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor", "canonical"),
    [
        ("1234.5", "USD", 123450, "1234.50"),
        ("1234.50", "USD", 123450, "1234.50"),
        ("-3", "USD", -300, "-3.00"),
        ("0.05", "USD", 5, "0.05"),
        ("-0.05", "USD", -5, "-0.05"),
        ("007", "USD", 700, "7.00"),
        (" 12.3 ", "EUR", 1230, "12.30"),
        ("500", "JPY", 500, "500"),
        ("1.5", "KWD", 1500, "1.500"),
        ("0.0001", "CLF", 1, "0.0001"),
        ("-0", "USD", 0, "0.00"),
    ],
)
def test_parse_and_str(text, currency, minor, canonical):
    m = Money.parse(text, currency)
    assert m == Money(minor, currency)
    assert str(m) == canonical
    assert m.amount == Decimal(canonical) and isinstance(m.amount, Decimal)
    assert str(m.amount) == canonical  # the Decimal keeps the currency's scale


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1e3", "USD"),
        ("1E3", "USD"),
        ("NaN", "USD"),
        ("nan", "USD"),
        ("Infinity", "USD"),
        ("-inf", "USD"),
        ("", "USD"),
        ("   ", "USD"),
        ("1,000.00", "USD"),
        ("1 000", "USD"),
        ("1_000", "USD"),
        ("1.234", "USD"),
        ("1.5", "JPY"),
        ("1.0001", "KWD"),
        ("+1", "USD"),
        (".5", "USD"),
        ("1.", "USD"),
        ("--1", "USD"),
        ("1.2.3", "USD"),
        ("0x10", "USD"),
        ("١٢", "USD"),
        ("$5", "USD"),
        ("5 USD", "USD"),
        ("1" * 40, "USD"),
        ("92233720368547758.08", "USD"),
    ],
)
def test_parse_rejects(text, currency):
    with pytest.raises(InvalidArgument) as err:
        Money.parse(text, currency, field="invoice.amount")
    assert [v.field for v in err.value.violations] == ["invoice.amount"]


def test_parse_at_the_bigint_limit():
    assert Money.parse("92233720368547758.07", "USD").minor == 2**63 - 1


def test_parse_unknown_currency():
    with pytest.raises(InvalidArgument):
        Money.parse("1.00", "ABC")


def test_never_float():
    with pytest.raises(TypeError):
        Money(1.0, "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(TypeError):
        Money.parse(1.5, "USD")
    with pytest.raises(TypeError):
        Money.of(1.5, "USD")
    with pytest.raises(TypeError):
        convert(Money(100, "USD"), 1.1, "EUR")
    with pytest.raises(TypeError):
        Money(1, "USD") + 1


@given(money())
def test_parse_str_round_trip(m):
    assert Money.parse(str(m), m.currency) == m
    assert Money.of(m.amount, m.currency) == m
    assert type(m.minor) is int and isinstance(m.amount, Decimal)
    assert not any(isinstance(getattr(m, f.name), float) for f in dataclasses.fields(m))


def test_of_is_exact():
    assert Money.of(Decimal("12.30"), "USD") == Money(1230, "USD")
    assert Money.of(Decimal("1E+3"), "USD") == Money(100000, "USD")
    assert Money.of(7, "JPY") == Money(7, "JPY")
    big = Decimal("12345678901234567890123456789.12")  # beyond the default 28-digit context
    assert Money.of(big, "USD").minor == 1234567890123456789012345678912
    for bad in (Decimal("1.005"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(InvalidArgument):
            Money.of(bad, "USD")


# --- arithmetic -------------------------------------------------------------------------------


@given(currencies.flatmap(lambda c: st.tuples(money(c), money(c), money(c))))
def test_addition_is_associative_and_commutative(triple):
    a, b, c = triple
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert (a + b) - b == a
    assert a - a == Money.zero(a.currency) and (a - a).is_zero()
    negated = -a
    assert -negated == a and abs(a) == abs(negated) and not abs(a).is_negative()


@given(currencies.flatmap(lambda c: st.tuples(money(c), money(c))))
def test_comparisons_follow_minor_units(pair):
    a, b = pair
    assert (a < b) == (a.minor < b.minor)
    assert (a <= b) == (a.minor <= b.minor)
    assert (a > b) == (a.minor > b.minor)
    assert (a >= b) == (a.minor >= b.minor)
    assert a.is_negative() == (a.minor < 0)


@given(two_currencies(), minors, minors)
def test_currency_mismatch_raises(codes, x, y):
    a, b = Money(x, codes[0]), Money(y, codes[1])
    for op in (
        lambda: a + b,
        lambda: a - b,
        lambda: a < b,
        lambda: a <= b,
        lambda: a > b,
        lambda: a >= b,
        lambda: sum_money([a, b], a.currency),
    ):
        with pytest.raises(CurrencyMismatch) as err:
            op()
        assert isinstance(err.value, InvalidArgument)
        assert err.value.reason == "CURRENCY_MISMATCH"
    assert a != b  # equality is simply False: different currencies are different amounts


def test_money_is_immutable_and_hashable():
    m = Money(100, "USD")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.minor = 5
    assert len({m, Money(100, "USD"), Money(100, "EUR")}) == 2


# --- conversion -------------------------------------------------------------------------------


def test_convert_rounds_once_half_even():
    usd = Money.parse("0.05", "USD")
    assert convert(usd, Decimal("0.5"), "EUR") == Money(2, "EUR")  # 0.025 → 0.02
    assert convert(Money(15, "USD"), Decimal("0.5"), "EUR") == Money(8, "EUR")  # 0.075 → 0.08
    assert convert(usd, Decimal("0.5"), "EUR", rounding=ROUND_HALF_UP) == Money(3, "EUR")
    assert convert(Money.parse("10.00", "USD"), Decimal("151.255"), "JPY") == Money(1513, "JPY")
    assert convert(Money.parse("100", "JPY"), Decimal("0.00203"), "KWD") == Money(203, "KWD")


@pytest.mark.parametrize("rate", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_convert_rejects_bad_rates(rate):
    with pytest.raises(InvalidArgument):
        convert(Money(100, "USD"), rate, "EUR")


@given(money(), currencies)
def test_convert_at_rate_one_keeps_the_amount_when_scales_allow(m, target):
    if currency_exponent(target) >= currency_exponent(m.currency):
        assert convert(m, Decimal(1), target).amount == m.amount


@given(money("USD"), st.decimals(min_value="0.0001", max_value="1000", places=6))
def test_convert_is_within_half_a_minor_unit(m, rate):
    converted = convert(m, rate, "EUR")
    assert abs(converted.amount - m.amount * rate) <= Decimal("0.005")


# --- sums per currency ------------------------------------------------------------------------


@given(currencies.flatmap(lambda c: st.tuples(st.just(c), st.lists(money(c), max_size=30))))
def test_sum_money_single_currency(case):
    currency, items = case
    assert sum_money(items, currency) == Money(sum(m.minor for m in items), currency)


@given(st.lists(st.builds(Money, minors, st.sampled_from(["USD", "EUR", "JPY"])), max_size=40))
def test_money_bag_keeps_currencies_apart(items):
    bag = MoneyBag(items)
    for currency in ("USD", "EUR", "JPY"):
        expected = sum(m.minor for m in items if m.currency == currency)
        assert bag[currency] == Money(expected, currency)
    assert set(bag.currencies()) == {m.currency for m in items}
    totals = totals_by_currency(items)
    assert all(total.currency == code for code, total in totals.items())
    assert bag == MoneyBag(reversed(items))


def test_money_bag_basics():
    bag = MoneyBag().add(Money(150, "USD")).add(Money(7, "JPY")).add(Money(-50, "USD"))
    assert bag["USD"] == Money(100, "USD") and bag["EUR"] == Money.zero("EUR")
    assert list(bag) == [Money(7, "JPY"), Money(100, "USD")]
    assert repr(bag) == "MoneyBag(7 JPY, 1.00 USD)"
    assert MoneyBag([Money(5, "USD"), Money(-5, "USD")]) == MoneyBag()
    with pytest.raises(TypeError):
        bag.add(Decimal("1.00"))
