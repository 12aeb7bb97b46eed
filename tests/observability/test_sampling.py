"""Sampling by the standard variables, exported through real OTLP: a ratio of 0 exports nothing of
a new trace, a sampled parent from upstream is honoured, breaches are always kept; with no
exporter nothing new is recorded; OTEL_SDK_DISABLED turns tracing off."""

from __future__ import annotations

import uuid

from opentelemetry import context as otel_context

from common import tracing
from common.telemetry import build_telemetry

UPSTREAM = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_ratio_zero_exports_no_new_trace_but_honours_sampled_parents_and_breaches(
    clean_env, otlp
):
    service = f"sampling-{uuid.uuid4().hex[:6]}"
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint)
    clean_env.setenv("OTEL_SERVICE_NAME", service)
    clean_env.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    clean_env.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    telemetry = build_telemetry("probe")
    tracer = telemetry.tracer()
    try:
        for _ in range(50):
            with (
                tracer.start_as_current_span("new request") as span,
                tracer.start_as_current_span("db"),
            ):
                assert not span.is_recording()
        token = otel_context.attach(tracing.context_from(UPSTREAM))
        try:
            with tracer.start_as_current_span("called by a sampled upstream"):
                pass
        finally:
            otel_context.detach(token)
        with tracing.breach_span(
            tracer, origin_traceparent=UPSTREAM, case_id="c", clock="resolve", policy="p"
        ):
            pass
        telemetry.flush()
        spans = await otlp.until(lambda r: len(r.spans_for(service)) >= 2 and r.spans_for(service))
    finally:
        await telemetry.shutdown()
    names = sorted(s.name for s in otlp.spans_for(service))
    assert names == ["called by a sampled upstream", "settle.sla.breach"]
    upstream = next(s for s in spans if s.name == "called by a sampled upstream")
    assert upstream.trace_id == UPSTREAM.split("-")[1]


async def test_without_an_exporter_new_traces_are_not_recorded_but_parents_are_honoured(clean_env):
    telemetry = build_telemetry("probe")
    tracer = telemetry.tracer()
    try:
        with tracer.start_as_current_span("new") as span:
            assert not span.is_recording()
            assert span.get_span_context().is_valid  # the logs still get a trace id
        token = otel_context.attach(tracing.context_from(UPSTREAM))
        try:
            with tracer.start_as_current_span("child") as child:
                assert child.is_recording()
        finally:
            otel_context.detach(token)
    finally:
        await telemetry.shutdown()


async def test_an_explicit_sampler_wins_and_the_sdk_can_be_disabled(clean_env):
    clean_env.setenv("OTEL_TRACES_SAMPLER", "always_on")
    telemetry = build_telemetry("probe")
    with telemetry.tracer().start_as_current_span("new") as span:
        assert span.is_recording()
    await telemetry.shutdown()
    clean_env.setenv("OTEL_SDK_DISABLED", "true")
    telemetry = build_telemetry("probe")
    with telemetry.tracer().start_as_current_span("new") as span:
        assert not span.is_recording()
    await telemetry.shutdown()
