"""Identifiers and resource names.

Ids are time-ordered UUIDs (version 7 layout): index-friendly on PostgreSQL, sortable, and safe to
create in any process without coordination.
"""

from __future__ import annotations

import os
import re
import time

from common.errors import InvalidArgument

_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def new_id() -> str:
    millis = time.time_ns() // 1_000_000
    raw = millis.to_bytes(6, "big") + os.urandom(10)
    value = int.from_bytes(raw, "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return f"{value:032x}"  # what uuid.UUID(int=value).hex gives, ~10x cheaper (one per row)


def is_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def make_name(collection: str, resource_id: str) -> str:
    return f"{collection}/{resource_id}"


def parse_name(name: str, collection: str, field: str = "name") -> str:
    """'customers/<id>' -> '<id>'; anything else is INVALID_ARGUMENT on `field`."""
    prefix = collection + "/"
    if not name:
        raise InvalidArgument.of(field, f"is required (expected '{collection}/{{id}}')")
    if not name.startswith(prefix) or not is_id(name[len(prefix) :]):
        raise InvalidArgument.of(field, f"must look like '{collection}/{{id}}'")
    return name[len(prefix) :]


def parse_child_name(
    name: str, parent: str, collection: str, field: str = "name"
) -> tuple[str, str]:
    """'customers/<a>/billingAccounts/<b>' -> ('<a>', '<b>')."""
    parts = name.split("/") if name else []
    if (
        len(parts) != 4
        or parts[0] != parent
        or parts[2] != collection
        or not all(is_id(p) for p in (parts[1], parts[3]))
    ):
        raise InvalidArgument.of(field, f"must look like '{parent}/{{id}}/{collection}/{{id}}'")
    return parts[1], parts[3]
