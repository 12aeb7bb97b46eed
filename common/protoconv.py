"""Conversions at the protobuf edge shared by every servicer: money, dates, timestamps, request
fingerprints. Each parse reports problems as field violations instead of raising at the first."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from common.errors import InvalidArgument, Violations
from common.idempotency import RequestKey
from common.money import MINOR_UNITS, Money, format_minor
from settle.common.v1 import common_pb2


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def from_timestamp(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def money_pb(value: Money) -> common_pb2.Money:
    return common_pb2.Money(currency_code=value.currency, amount=str(value))


def minor_pb(minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency_code=currency, amount=format_minor(minor, currency))


def parse_money(
    pb: common_pb2.Money, field: str, v: Violations, *, required: bool = True, positive: bool = True
) -> Money | None:
    if not pb.currency_code and not pb.amount:
        if required:
            v.add(field, "is required")
        return None
    if pb.amount != pb.amount.strip():
        # The API's money text is exact, as "+5.00" is refused: what needs trimming may be a
        # value a client assembled wrongly. (Money.parse trims: CSV cells come padded.)
        v.add(f"{field}.amount", "not a plain decimal amount: remove the surrounding spaces")
        return None
    currency = pb.currency_code.upper()
    if currency not in MINOR_UNITS:  # named here: Money.parse would name a bare "currency"
        v.add(f"{field}.currency_code", f"unknown ISO-4217 currency code {currency[:8]!r}")
        return None
    try:
        money = Money.parse(pb.amount, currency, field=f"{field}.amount")
    except InvalidArgument as exc:
        v.items.extend(exc.violations or [])
        return None
    if positive and (money.is_zero() or money.is_negative()):
        v.add(f"{field}.amount", "must be greater than zero")
        return None
    return money


def parse_date(text: str, field: str, v: Violations, *, required: bool = True) -> date | None:
    if not text:
        if required:
            v.add(field, "is required (YYYY-MM-DD)")
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        v.add(field, "must be a date YYYY-MM-DD")
        return None


def request_key(request, field: str = "request_id") -> RequestKey:
    """The request's idempotency key and a hash of everything else it says."""
    key = getattr(request, field, "")
    if len(key) > 200:
        raise InvalidArgument.of(field, "must be at most 200 characters")
    content = type(request)()
    content.CopyFrom(request)
    content.ClearField(field)
    digest = hashlib.sha256(content.SerializeToString(deterministic=True)).hexdigest()
    return RequestKey(key, digest)
