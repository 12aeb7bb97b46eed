"""Exact money: integer minor units of an ISO-4217 currency. No float ever enters or leaves.

Amounts in different currencies are never added, subtracted or compared; `convert` with an explicit
rate is the only way from one currency to another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from types import MappingProxyType

from common.errors import InvalidArgument


def _codes(text: str) -> list[str]:
    return text.split()


# ISO 4217 List One, active codes with a minor unit (amendments to 2025: HRK, SLL, ZWL withdrawn;
# SLE, VED, XCG, ZWG added; ANG kept while XCG replaces it). Codes whose minor unit is "N.A."
# (XAU, XDR, XTS, XXX...) are left out on purpose: no invoice is raised in them.
_EXPONENT_EXCEPTIONS = {
    **dict.fromkeys(
        _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"), 0
    ),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    **dict.fromkeys(_codes("CLF UYW"), 4),
}
_TWO_DIGIT_CODES = _codes("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK
PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
""")
MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {**dict.fromkeys(_TWO_DIGIT_CODES, 2), **_EXPONENT_EXCEPTIONS}
)

# Optional minus, digits, optional fraction. Everything else ("1e3", "NaN", "1,000", "+1", ".5")
# is refused: an amount that needs interpreting is an amount that can be misread.
_AMOUNT_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_MAX_DIGITS = 30  # stops hostile megabyte-long "numbers" before int() sees them
MAX_MINOR = 2**63 - 1  # what a BIGINT column holds; parsed amounts beyond it are refused


class CurrencyMismatch(InvalidArgument):
    """Two amounts in different currencies met without an exchange rate."""

    reason = "CURRENCY_MISMATCH"


def currency_exponent(code: str) -> int:
    """Digits after the decimal point for an ISO-4217 code ("USD" → 2, "JPY" → 0, "KWD" → 3)."""
    exponent = MINOR_UNITS.get(code) if isinstance(code, str) else None
    if exponent is None:
        raise InvalidArgument.of("currency", f"unknown ISO-4217 currency code {str(code)[:8]!r}")
    return exponent


def format_minor(minor: int, currency: str) -> str:
    """The amount as plain decimal text (12345 EUR → "123.45"), without building a Money: what
    every protobuf conversion does, many times per listed row."""
    if type(minor) is not int:  # bool and float are both refused
        raise TypeError(f"an amount in minor units must be int, not {type(minor).__name__}")
    exponent = currency_exponent(currency)
    digits = str(abs(minor)).rjust(exponent + 1, "0")
    sign = "-" if minor < 0 else ""
    if exponent == 0:
        return sign + digits
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:  # bool and float are both refused
            raise TypeError(f"Money.minor must be int, not {type(self.minor).__name__}")
        currency_exponent(self.currency)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, amount: str, currency: str, field: str = "amount") -> Money:
        """A decimal string such as "1234.5" or "-3"; never more decimals than the currency has."""
        if not isinstance(amount, str):
            raise TypeError(f"Money.parse needs str, not {type(amount).__name__}")
        exponent = currency_exponent(currency)
        text = amount.strip()
        if not text:
            raise InvalidArgument.of(field, "an amount is required")
        if len(text) > _MAX_DIGITS + 2 or not _AMOUNT_RE.fullmatch(text):
            raise InvalidArgument.of(field, f"not a plain decimal amount: {text[:40]!r}")
        whole, _, fraction = text.lstrip("-").partition(".")
        if len(fraction) > exponent:
            raise InvalidArgument.of(
                field, f"{currency} allows {exponent} decimals, got {len(fraction)}: {text!r}"
            )
        minor = int(whole + fraction.ljust(exponent, "0"))
        if minor > MAX_MINOR:
            raise InvalidArgument.of(field, f"amount out of range: {text!r}")
        return cls(-minor if text.startswith("-") else minor, currency)

    @classmethod
    def of(cls, amount: Decimal | int, currency: str) -> Money:
        """Exact conversion; a Decimal with more decimals than the currency has is refused."""
        if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
            raise TypeError(f"Money.of needs Decimal or int, not {type(amount).__name__}")
        amount = Decimal(amount)
        if not amount.is_finite():
            raise InvalidArgument.of("amount", f"not a finite amount: {amount}")
        scaled = amount.scaleb(currency_exponent(currency), _exact_context(amount))
        if scaled != scaled.to_integral_value():
            raise InvalidArgument.of("amount", f"{amount} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    # --- views --------------------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        digits = tuple(int(d) for d in str(abs(self.minor)))
        return Decimal((int(self.minor < 0), digits, -self.exponent))

    def __str__(self) -> str:
        return format_minor(self.minor, self.currency)

    def is_zero(self) -> bool:
        return self.minor == 0

    def is_negative(self) -> bool:
        return self.minor < 0

    # --- arithmetic, one currency only --------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency} without a rate",
                metadata={"left": self.currency, "right": other.currency},
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor


def _exact_context(*values: Decimal) -> Context:
    """A private decimal context wide enough that multiplying/scaling these never rounds.

    The thread's default context (28 digits) would silently round large amounts."""
    digits = sum(len(v.as_tuple().digits) for v in values)
    return Context(prec=digits + 40, Emax=MAX_EMAX, Emin=MIN_EMIN)


def convert(
    money: Money, rate: Decimal, to_currency: str, rounding: str = ROUND_HALF_EVEN
) -> Money:
    """`money` × `rate` in `to_currency`, rounded once to that currency's minor unit."""
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise TypeError(f"rate must be Decimal, not {type(rate).__name__}")
    rate = Decimal(rate)
    if not rate.is_finite() or rate <= 0:
        raise InvalidArgument.of("rate", f"an exchange rate must be positive and finite: {rate}")
    exponent = currency_exponent(to_currency)
    ctx = _exact_context(money.amount, rate)
    product = ctx.multiply(money.amount, rate)
    minor = ctx.scaleb(product, exponent).quantize(Decimal(1), rounding=rounding, context=ctx)
    return Money(int(minor), to_currency)


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum of amounts that must all be in `currency` (an empty iterable sums to zero)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


class MoneyBag:
    """Per-currency running totals. Each currency is kept apart; nothing is ever converted."""

    __slots__ = ("_totals",)

    def __init__(self, items: Iterable[Money] = ()) -> None:
        self._totals: dict[str, Money] = {}
        for item in items:
            self.add(item)

    def add(self, money: Money) -> MoneyBag:
        if not isinstance(money, Money):
            raise TypeError(f"MoneyBag holds Money, not {type(money).__name__}")
        self._totals[money.currency] = self.get(money.currency) + money
        return self

    def get(self, currency: str) -> Money:
        total = self._totals.get(currency)
        return Money.zero(currency) if total is None else total

    __getitem__ = get

    def currencies(self) -> list[str]:
        return sorted(self._totals)

    def __iter__(self) -> Iterator[Money]:
        return (self._totals[c] for c in self.currencies())

    def __len__(self) -> int:
        return len(self._totals)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MoneyBag):
            return NotImplemented
        return self.as_dict() == other.as_dict()  # defining __eq__ leaves it unhashable: mutable

    def as_dict(self) -> dict[str, Money]:
        """Totals per currency, zero totals dropped so {} == an empty bag."""
        return {c: m for c, m in sorted(self._totals.items()) if not m.is_zero()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{m} {m.currency}" for m in self)
        return f"MoneyBag({inner})"


def totals_by_currency(items: Iterable[Money]) -> dict[str, Money]:
    return MoneyBag(items).as_dict()
