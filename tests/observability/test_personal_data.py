"""The personal-data rules, and the span guard that applies them before anything is exported."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link

from common.redaction import REDACTED, is_personal_key, redact_mapping, scrub_text
from common.span_pipeline import RedactingSpanExporter


def test_keys_that_name_personal_data():
    personal = ["email", "contact.email", "contact_name", "customer.display_name", "note",
                "phone_number", "notes", "note_text", "http.request.header.authorization",
                "summary"]  # fmt: skip
    harmless = ["case_id", "contact_id", "settle.case.id", "rpc.method", "db.statement",
                "messaging.message.body.size", "event", "name", "status", "team"]  # fmt: skip
    assert [k for k in personal if not is_personal_key(k)] == []
    assert [k for k in harmless if is_personal_key(k)] == []


def test_emails_and_international_numbers_are_masked_in_text_but_ids_are_not():
    assert scrub_text("mail ana.b@acme.example now") == f"mail {REDACTED} now"
    assert scrub_text("call +49 30 1234567.") == f"call {REDACTED}."
    for kept in ("invoice 100000123", "amount 1234.50", "customers/01HV7", "a+b=c"):
        assert scrub_text(kept) == kept


def test_nested_structures_are_redacted():
    got = redact_mapping({"event": "x", "contact": {"name": "Ana"}, "extra": [{"e": "a@b.co"}]})
    assert got == {"event": "x", "contact": REDACTED, "extra": [{"e": REDACTED}]}


def test_the_span_guard_removes_personal_data_before_export():
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(exported)))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("clean") as clean:
        clean.set_attribute("settle.case.id", "c-1")
    origin = clean.get_span_context()
    with tracer.start_as_current_span("dirty", links=[Link(origin, {"note": "call Ana"})]) as span:
        span.set_attribute("contact.email", "ana@acme.example")
        span.set_attribute("exception.message", "no customer for ana@acme.example")
        span.set_attribute("settle.case.id", "c-1")
        span.add_event("settle.case.noted", {"note_text": "Ana called, angry", "n": 1})
    clean_out, dirty_out = exported.get_finished_spans()
    assert clean_out.attributes["settle.case.id"] == "c-1"
    assert dict(dirty_out.attributes) == {
        "contact.email": REDACTED,
        "exception.message": f"no customer for {REDACTED}",
        "settle.case.id": "c-1",
    }
    assert dict(dirty_out.events[0].attributes) == {"note_text": REDACTED, "n": 1}
    assert dict(dirty_out.links[0].attributes) == {"note": REDACTED}
    assert (dirty_out.context, dirty_out.parent, dirty_out.name) == (
        span.get_span_context(),
        None,
        "dirty",
    )
