"""The edge validators every service's `api/requests.py` uses: one behaviour for text, codes,
currencies, resource names, update masks, timestamps and repeated fields.

Each takes a `Violations` and adds to it instead of raising, so a request reports all its problems
at once (`v.raise_if_any()` at the end turns them into INVALID_ARGUMENT with field violations).
Each returns a usable value even when it added a violation, so the caller can go on building.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sized
from datetime import UTC, datetime

from common.errors import Violations
from common.ids import is_id
from common.money import MINOR_UNITS

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
_ECHO = 64  # at most this much of a bad value is quoted back in a violation


def text(value: str, field: str, v: Violations, *, required: bool = False) -> str:
    """Stripped text. Its length was checked against the proto's declared bound before the
    servicer ran (common/contract.py). A NUL byte or a lone surrogate is refused here too:
    PostgreSQL cannot store either, and letting one through turns a bad request into INTERNAL."""
    value = value.strip()
    v.require(bool(value) or not required, field, "is required")
    v.require("\x00" not in value, field, "must not contain NUL characters")
    v.require(_encodable(value), field, "must be valid Unicode text (no lone surrogates)")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def code(value: str, field: str, v: Violations, *, required: bool = True) -> str:
    """An UPPER_SNAKE code of at most 64 characters (a reason, an outcome, a root cause)."""
    value = value.strip()
    if not value:
        v.require(not required, field, "is required")
    elif not _CODE.match(value):
        v.add(field, "must be an UPPER_SNAKE code of at most 64 characters")
    return value


def currency(value: str, field: str, v: Violations, *, required: bool = True) -> str:
    """An ISO 4217 alpha-3 code that Settle knows the minor units of ("EUR", "JPY")."""
    value = value.strip()
    if not value:
        v.require(not required, field, "is required")
    elif not (_CURRENCY.match(value) and value in MINOR_UNITS):
        v.add(field, "is not an ISO 4217 currency code")
    return value


def resource_id(name: str, collection: str, field: str, v: Violations) -> str:
    """'<collection>/<id>' -> '<id>'; "" (and a violation) for anything else."""
    prefix = f"{collection}/"
    if name.startswith(prefix) and is_id(name[len(prefix) :]):
        return name[len(prefix) :]
    v.add(field, f"must look like '{collection}/{{id}}'" if name else "is required")
    return ""


def update_mask(
    mask: str, allowed: Iterable[str], v: Violations, field: str = "update_mask"
) -> tuple[str, ...]:
    """Comma-separated field paths, in snake_case or as their lowerCamel JSON names (what the
    gateway's HTTP callers send), returned in snake_case without repeats. An empty mask means
    every allowed field."""
    allowed = tuple(allowed)
    if not mask.strip():
        return allowed
    paths: list[str] = []
    for given in (p.strip() for p in mask.split(",")):
        if not given:
            continue
        path = _CAMEL_HUMP.sub(lambda m: "_" + m.group(1).lower(), given)
        if path not in allowed:
            v.add(
                field,
                f"'{given[:_ECHO]}' is not an updatable field; updatable: {', '.join(allowed)}",
            )
        elif path not in paths:
            paths.append(path)
    return tuple(paths)


def timestamp(text: str, field: str, v: Violations) -> datetime | None:
    """An RFC 3339 instant with its offset ("2026-03-01T09:00:00Z"), in UTC; None when empty.
    Fractions finer than a microsecond (protobuf's JSON allows nanoseconds) are truncated."""
    text = text.strip()
    if not text:
        return None
    try:
        return rfc3339(text)
    except ValueError:
        v.add(field, "must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:00:00Z")
        return None


def rfc3339(text: str) -> datetime:
    """`timestamp` for callers that report errors as ValueError (list filters)."""
    found = _RFC3339.match(text)
    if found is None:
        raise ValueError("must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:00:00Z")
    day, clock, fraction, offset = found.groups()
    micros = f".{fraction[:6]:0<6}" if fraction else ""
    offset = "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{day}T{clock}{micros}{offset}").astimezone(UTC)


def repeated(values: Sized, field: str, v: Violations, *, limit: int) -> None:
    """Bounds a repeated field, so one request cannot ask for unbounded work."""
    v.require(len(values) <= limit, field, f"must have at most {limit} entries")
