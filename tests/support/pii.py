"""Scans received spans for personal data: every attribute (span, event, link) of every span.

Two independent checks: the literal values a test put in (names, emails, notes it created, the
strongest evidence), and the generic rules of common/redaction.py (keys that name personal data,
text that looks like an email or an international phone number)."""

from __future__ import annotations

from collections.abc import Iterable

from common.redaction import EMAIL, PHONE, REDACTED, is_personal_key
from tests.support.otlp import ReceivedSpan


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def _attribute_sets(span: ReceivedSpan) -> Iterable[tuple[str, dict]]:
    yield "", span.attributes
    for event in span.events:
        yield f"event {event.name}: ", event.attributes
    for link in span.links:
        yield "link: ", link.attributes


def personal_data_in(spans: Iterable[ReceivedSpan], known: Iterable[str] = ()) -> list[str]:
    """One line per finding (empty when clean)."""
    known = [k.lower() for k in known if k]
    findings = []
    for span in spans:
        where_span = f"{span.service}:{span.name}"
        texts = [("name", span.name), ("status", span.status_message)]
        for where, attributes in _attribute_sets(span):
            for key, value in attributes.items():
                if is_personal_key(key) and value != REDACTED:
                    findings.append(f"{where_span} {where}{key} is a personal-data key")
                texts += [(f"{where}{key}", s) for s in _strings(value)]
        for where, text in texts:
            lowered = text.lower()
            hits = [k for k in known if k in lowered]
            if hits or EMAIL.search(text) or PHONE.search(text):
                findings.append(f"{where_span} {where} = {text[:120]!r}")
    return findings
