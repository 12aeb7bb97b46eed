"""List methods (AIP-132/158/160): page sizes, opaque page tokens, a small filter language and
ordering, shared by every service so each List behaves the same way.

Filter grammar: terms joined by ' AND '; a term is `field OP value` with OP one of
= != < <= > >=; values may be double-quoted. Enough for collectors' worklists and reports, and
strict: an unknown field or a bad value is INVALID_ARGUMENT naming `filter`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Bounds of a filter, checked before it is parsed: far above any worklist's needs, and far
# below what the databases refuse (SQLite's expression depth) or what costs real CPU to parse.
MAX_FILTER_CHARS = 2000
MAX_FILTER_TERMS = 20
_TERM = re.compile(
    r'^\s*([a-z_][a-z0-9_.]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s"=<>!][^\s"]*)\s*$'
)


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: Any


def parse_bool(text: str) -> bool:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ValueError("must be true or false")


def parse_date(text: str) -> date:
    return date.fromisoformat(text)


def parse_filter(text: str, fields: Mapping[str, Callable[[str], Any]]) -> list[Term]:
    """`fields` maps each filterable field to a converter from text (raising ValueError)."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidArgument.of("filter", f"is longer than {MAX_FILTER_CHARS} characters")
    raws = re.split(r"\s+AND\s+", text.strip())
    if len(raws) > MAX_FILTER_TERMS:
        raise InvalidArgument.of("filter", f"has more than {MAX_FILTER_TERMS} terms")
    terms = []
    for raw in raws:
        match = _TERM.match(raw)
        if not match:
            raise InvalidArgument.of(
                "filter", f"cannot read term '{raw[:40]}' (expected field=value)"
            )
        name, op, value = match.groups()
        if name not in fields:
            allowed = ", ".join(sorted(fields))
            raise InvalidArgument.of("filter", f"unknown field '{name}'; filterable: {allowed}")
        if value.startswith('"'):
            value = json.loads(value)
        try:
            terms.append(Term(name, op, fields[name](value)))
        except (ValueError, KeyError) as exc:
            raise InvalidArgument.of("filter", f"bad value for {name}: {exc}") from None
    return terms


def parse_order_by(text: str, allowed: set[str], default: str) -> tuple[str, bool]:
    """Returns (field, descending)."""
    if not text or not text.strip():
        return default, False
    parts = text.strip().split()
    if (
        parts[0] not in allowed
        or len(parts) > 2
        or (len(parts) == 2 and parts[1] not in ("asc", "desc"))
    ):
        raise InvalidArgument.of(
            "order_by", f"must be one of {sorted(allowed)}, optionally ' desc'"
        )
    return parts[0], len(parts) == 2 and parts[1] == "desc"


@dataclass(frozen=True)
class Page:
    offset: int
    size: int

    def next_token(self, returned: int, query_key: str) -> str:
        """A token only when this page was full; it is bound to the query that made it."""
        if returned < self.size:
            return ""
        blob = json.dumps({"o": self.offset + self.size, "q": query_key}).encode()
        return base64.urlsafe_b64encode(blob).decode()


def query_key(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


def parse_page(page_size: int, page_token: str, key: str) -> Page:
    if page_size < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not page_token:
        return Page(0, size)
    try:
        data = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        offset = int(data["o"])
        same_query = data["q"] == key
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument.of("page_token", "is not a token this list returned") from None
    if not same_query or offset < 0:
        raise InvalidArgument.of("page_token", "belongs to a different filter or order")
    return Page(offset, size)
