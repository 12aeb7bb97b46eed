"""What counts as personal data in telemetry, and how it is taken out.

Logs and spans must never carry contact names, emails, phone numbers or free-text notes. Code is
supposed to leave them out; these rules are the defence for when it does not: a key that names
personal data loses its value, and text that contains an email address or an international phone
number has it masked. Used by the log processor (common/logs.py) and the span guard
(common/span_pipeline.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "[redacted]"

# A key is personal when one of its words (split on . _ - and spaces) is one of these ...
PERSONAL_WORDS = frozenset(
    {
        "email",
        "emails",
        "phone",
        "phones",
        "mobile",
        "telephone",
        "fax",
        "contact",
        "contacts",
        "note",
        "notes",
        "comment",
        "comments",
        "summary",
        "body",
        # not personal, but just as unwelcome in telemetry
        "password",
        "secret",
        "token",
        "authorization",
        "cookie",
    }
)
# ... or it is one of these names of a person ...
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "given_name",
        "family_name",
        "display_name",
        "contact_name",
        "person_name",
        "free_text",
    }
)
# ... unless its last word says it is an identifier or a measure of the thing, not the thing.
SAFE_LAST_WORDS = frozenset({"id", "ids", "count", "size", "length", "kind", "type"})

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Only numbers written with a leading "+": bare digit runs are ids, invoice numbers and amounts.
PHONE = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,}\d")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def is_personal_key(key: str) -> bool:
    lowered = key.lower()
    if lowered.rsplit(".", 1)[-1] in PERSONAL_KEYS:
        return True
    words = [w for w in _WORD_SPLIT.split(lowered) if w]
    if not words or words[-1] in SAFE_LAST_WORDS:
        return False
    return any(w in PERSONAL_WORDS for w in words)


def scrub_text(text: str) -> str:
    """The text with email addresses and international phone numbers masked."""
    if "@" not in text and "+" not in text:  # the common case costs two scans, no regex
        return text
    return PHONE.sub(REDACTED, EMAIL.sub(REDACTED, text))


def redact(value, depth: int = 0):
    """A copy of a value (str, mapping, list/tuple, anything else) without personal data."""
    if isinstance(value, str):
        return scrub_text(value)
    if depth > 6:  # deep structures are tracebacks' frames at most; stop, do not recurse forever
        return value
    if isinstance(value, Mapping):
        return redact_mapping(value, depth + 1)
    if isinstance(value, list | tuple):
        return [redact(v, depth + 1) for v in value]
    return value


def redact_mapping(mapping: Mapping, depth: int = 0) -> dict:
    return {
        k: (REDACTED if isinstance(k, str) and is_personal_key(k) else redact(v, depth))
        for k, v in mapping.items()
    }
