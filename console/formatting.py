"""How values from the API read on screen: money with its currency, times in UTC, business
durations in hours and minutes, enum names in words. Presentation only: no figure is computed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation


def money(value: dict | None) -> str:
    if not value or not value.get("currencyCode"):
        return "—"
    try:
        amount = f"{Decimal(value.get('amount') or '0'):,.2f}"
    except InvalidOperation:
        amount = str(value.get("amount"))
    return f"{value['currencyCode']} {amount}"


def nonzero(value: dict | None) -> bool:
    try:
        return bool(value) and Decimal(value.get("amount") or "0") != 0
    except InvalidOperation:
        return False


def when(value: str | None) -> str:
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(value: str | None) -> str:
    """A protobuf JSON duration ("-5400.5s") as "−1 h 30 min"."""
    if not value or not value.endswith("s"):
        return "—"
    try:
        seconds = float(value[:-1])
    except ValueError:
        return value
    sign = "−" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    parts.append(f"{minutes} min")
    return sign + " ".join(parts)


def words(value: str | None) -> str:
    """ "PENDING_CUSTOMER" -> "Pending customer"."""
    if not value:
        return "—"
    text = value.replace("_", " ").lower()
    return text[:1].upper() + text[1:]


def resource_id(name: str | None) -> str:
    """ "customers/abc" -> "abc"."""
    return (name or "").rsplit("/", 1)[-1]


FILTERS = {
    "money": money,
    "nonzero": nonzero,
    "when": when,
    "duration": duration,
    "words": words,
    "rid": resource_id,
}
