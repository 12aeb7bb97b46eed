"""common.tracing: traceparents stored on rows, links back to them, SLA clock events and breach
spans, and no attribute work for spans that are not recorded."""

from __future__ import annotations

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import StatusCode

from common import tracing
from common.span_pipeline import KeepBreaches

STORED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported():
    return InMemorySpanExporter()


def tracer_for(exported, sampler=None):
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider.get_tracer("test")


def test_current_traceparent_is_the_current_spans_w3c_string(exported):
    assert tracing.current_traceparent() is None
    with tracer_for(exported).start_as_current_span("work") as span:
        ctx = span.get_span_context()
        expected = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"
        assert tracing.current_traceparent() == expected
        assert ctx.trace_flags & 1  # sampled
        assert tracing.trace_id_of(expected) == f"{ctx.trace_id:032x}"


def test_garbage_traceparents_give_nothing_to_link_to():
    for bad in (None, "", "00-zz-yy-01", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"):
        assert tracing.context_from(bad) is None
        assert tracing.link_to(bad) is None


def test_linked_span_starts_a_new_trace_linking_to_stored_ones(exported):
    tracer = tracer_for(exported)
    with (
        tracer.start_as_current_span("sweeper pass"),
        tracing.linked_span(tracer, "fire", links=[STORED, None, "junk"], new_trace=True),
    ):
        pass
    fire = next(s for s in exported.get_finished_spans() if s.name == "fire")
    assert fire.parent is None
    (link,) = fire.links
    assert f"{link.context.trace_id:032x}" == STORED.split("-")[1]
    assert dict(link.attributes) == {tracing.LINK_ROLE: "origin"}


def test_breach_span_is_marked_linked_and_kept_when_everything_else_is_sampled_out(exported):
    tracer = tracer_for(exported, KeepBreaches(ParentBased(TraceIdRatioBased(0))))
    with tracer.start_as_current_span("ordinary request"):
        pass
    clock = dict(
        case_id="c-1", clock="resolve", policy="std", target_s=3600, business_remaining_s=-5
    )
    with (
        tracing.breach_span(
            tracer, origin_traceparent=STORED, reason="PRICING", team="SALES", **clock
        ),
        tracer.start_as_current_span("raise escalation"),  # joins the breach's trace
    ):
        pass
    spans = {s.name: s for s in exported.get_finished_spans()}
    assert set(spans) == {"settle.sla.breach", "raise escalation"}
    breach = spans["settle.sla.breach"]
    assert breach.status.status_code == StatusCode.ERROR
    assert breach.attributes[tracing.SLA_BREACH] is True
    assert breach.attributes[tracing.CASE_ID] == "c-1"
    assert breach.attributes[tracing.BUSINESS_REMAINING_S] == -5.0
    assert breach.attributes[tracing.TEAM] == "SALES"
    assert [e.name for e in breach.events] == ["settle.sla.breached"]
    assert breach.events[0].attributes[tracing.TARGET_S] == 3600.0
    assert f"{breach.links[0].context.trace_id:032x}" == STORED.split("-")[1]
    assert spans["raise escalation"].parent.span_id == breach.context.span_id


def test_clock_events_become_span_events(exported):
    with tracer_for(exported).start_as_current_span("pause case"):
        tracing.clock_event("paused", case_id="c-1", clock="resolve", policy="std", target_s=60)
        with pytest.raises(ValueError):
            tracing.clock_event("exploded", case_id="c-1", clock="resolve", policy="std")
    (span,) = exported.get_finished_spans()
    (event,) = span.events
    assert event.name == "settle.sla.paused"
    assert dict(event.attributes) == {
        tracing.CLOCK_EVENT: "paused",
        tracing.CASE_ID: "c-1",
        tracing.CLOCK_KIND: "resolve",
        tracing.POLICY: "std",
        tracing.TARGET_S: 60.0,
    }


def test_unrecorded_spans_cost_no_attribute_work(exported):
    built = []

    def attributes():
        built.append(1)
        return {tracing.CASE_ID: "c-1"}

    with tracer_for(exported, ParentBased(ALWAYS_OFF)).start_as_current_span("sampled out"):
        tracing.annotate(attributes)
        tracing.clock_event("started", case_id="c-1", clock="resolve", policy="std")
    assert built == [] and exported.get_finished_spans() == ()
    with tracer_for(exported).start_as_current_span("sampled"):
        tracing.annotate(attributes)
    assert built == [1]
    assert exported.get_finished_spans()[0].attributes[tracing.CASE_ID] == "c-1"


def test_about_binds_the_log_context_and_the_span(exported):
    structlog.contextvars.clear_contextvars()
    with tracer_for(exported).start_as_current_span("get case"):
        tracing.about(case_id="c-9", escalation_id=None)
        assert structlog.contextvars.get_contextvars() == {"case_id": "c-9"}
        with pytest.raises(TypeError):
            tracing.about(contact_email="x")
    assert exported.get_finished_spans()[0].attributes[tracing.CASE_ID] == "c-9"
    structlog.contextvars.clear_contextvars()


def test_working_on_restores_the_log_context_when_the_job_ends():
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(worker="sweeper")
    with tracing.working_on(case_id="c-1"):
        assert structlog.contextvars.get_contextvars() == {"worker": "sweeper", "case_id": "c-1"}
    assert structlog.contextvars.get_contextvars() == {"worker": "sweeper"}
    structlog.contextvars.clear_contextvars()
