"""Money and dates in the customer's language (Babel): exact Decimal amounts from minor units,
never a float, and a locale that falls back to English when the language is unknown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from common.money import currency_exponent

FALLBACK_LOCALE = Locale("en")


def locale_for(language: str) -> Locale:
    """ "de", "de-CH", "pt_BR" → that locale; "" or an unknown tag → English."""
    try:
        return Locale.parse(language.replace("-", "_")) if language else FALLBACK_LOCALE
    except (UnknownLocaleError, ValueError):
        return FALLBACK_LOCALE


def money(minor: int, currency: str, locale: Locale) -> str:
    amount = Decimal(minor).scaleb(-currency_exponent(currency))
    return format_currency(amount, currency, locale=locale)


def day(value: date, locale: Locale) -> str:
    return format_date(value, format="medium", locale=locale)
