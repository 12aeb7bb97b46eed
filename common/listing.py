"""List methods (AIP-132/158/160): page sizes, opaque page tokens, a small filter language and
ordering, shared by every service so each List behaves the same way.

Page tokens are signed (PageTokens): opaque to callers and bound to the query that made them.

Filter grammar: terms joined by ' AND '; a term is `field OP value` with OP one of
= != < <= > >=; values may be double-quoted. Enough for collectors' worklists and reports, and
strict: an unknown field or a bad value is INVALID_ARGUMENT naming `filter`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# How deep offset paging goes: past it a list ends (no next token); a deeper read is a report.
MAX_OFFSET = 10_000_000
_OFFSET_BYTES = 4  # MAX_OFFSET fits
_TAG_BYTES = 16
# The shape of an order_by (which fields, each List says); an empty one takes the default.
ORDER_BY_PATTERN = r"^\s*([a-z][a-z0-9_]*(\s+(asc|desc))?)?\s*$"
# What a page token looks like (unpadded base64url of offset and tag), for the API contract.
PAGE_TOKEN_PATTERN = rf"^([A-Za-z0-9_-]{{{math.ceil((_OFFSET_BYTES + _TAG_BYTES) * 4 / 3)}}})?$"
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


def query_key(*parts: object) -> str:
    """What a page token is bound to: the list's filter, order and parent, as given."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


class PageTokens:
    """Page tokens that are opaque and tamper-evident: an offset and an HMAC-SHA256 tag over it
    and the query it was issued for, keyed from the shared internal secret and the service. A
    forged, altered or truncated token, or one another filter, order or service issued, is
    INVALID_ARGUMENT, so a caller can neither jump to an offset of its choosing nor reuse a
    token across queries (issue 17 defect 3). Made once in each service's composition root."""

    def __init__(self, secret: str, service: str):
        # A key of its own, derived from the shared secret: a page tag can sign nothing else.
        label = f"settle.{service} page token".encode()
        self._key = hmac.new(secret.encode(), label, hashlib.sha256).digest()

    def page(self, page_size: int, page_token: str, key: str) -> Page:
        """The page a request asks for; `key` is the query_key of its filter, order, parent."""
        if page_size < 0:
            raise InvalidArgument.of("page_size", "must not be negative")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        if not page_token:
            return Page(0, size)
        return Page(self._offset(page_token, key), size)

    def next_token(self, page: Page, returned: int, key: str) -> str:
        """A token only when `page` was full and the next one is within MAX_OFFSET."""
        offset = page.offset + page.size
        if returned < page.size or offset > MAX_OFFSET:
            return ""
        body = offset.to_bytes(_OFFSET_BYTES, "big")
        return base64.urlsafe_b64encode(body + self._tag(body, key)).decode().rstrip("=")

    def _tag(self, body: bytes, key: str) -> bytes:
        return hmac.new(self._key, body + key.encode(), hashlib.sha256).digest()[:_TAG_BYTES]

    def _offset(self, token: str, key: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, binascii.Error):
            raw = b""
        body, tag = raw[:_OFFSET_BYTES], raw[_OFFSET_BYTES:]
        if len(raw) != _OFFSET_BYTES + _TAG_BYTES or not hmac.compare_digest(
            tag, self._tag(body, key)
        ):
            raise InvalidArgument.of(
                "page_token", "is not a token this list returned for this filter and order"
            )
        offset = int.from_bytes(body, "big")
        if offset > MAX_OFFSET:  # never issued; a leaked key is the only way here
            raise InvalidArgument.of("page_token", f"is past the last page ({MAX_OFFSET} items)")
        return offset
