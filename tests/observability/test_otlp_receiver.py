"""The test receiver decodes what a real OTLP/gRPC exporter sends: spans with their service,
parentage, links, attributes, events and status, and metric points."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.support.otlp import OtlpReceiver


def test_spans_arrive_decoded_with_parentage_links_events_and_status():
    with OtlpReceiver() as receiver:
        provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint))
        )
        tracer = provider.get_tracer("probe-scope")
        with tracer.start_as_current_span("earlier") as earlier:
            pass
        origin = Link(earlier.get_span_context(), {"why": "origin"})
        with (
            tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
            tracer.start_as_current_span("child", links=[origin]) as child,
        ):
            child.set_attribute("settle.case.id", "c1")
            child.set_attribute("tags", ("a", "b"))
            child.add_event("settle.sla.started", {"settle.target_s": 60.0})
            child.set_status(Status(StatusCode.ERROR, "late"))
        provider.shutdown()

        received = receiver.wait_for(lambda r: len(r.spans) == 3 and r.spans)
        by_name = {s.name: s for s in received}
        trace_id = format(parent.get_span_context().trace_id, "032x")
        assert [s.name for s in receiver.trace(trace_id)] == ["parent", "child"]
        got_parent, got_child = by_name["parent"], by_name["child"]
        assert got_parent.service == "probe" and got_parent.scope == "probe-scope"
        assert got_parent.kind == "server" and got_parent.parent_span_id is None
        assert got_child.parent_span_id == got_parent.span_id
        assert got_child.attributes == {"settle.case.id": "c1", "tags": ("a", "b")}
        assert [(e.name, e.attributes) for e in got_child.events] == [
            ("settle.sla.started", {"settle.target_s": 60.0})
        ]
        (link,) = got_child.links
        assert link.span_id == format(earlier.get_span_context().span_id, "016x")
        assert link.attributes == {"why": "origin"}
        assert (got_child.status, got_child.status_message) == ("error", "late")
        assert receiver.spans_for("probe") and not receiver.spans_for("other")


def test_metric_points_arrive_with_attributes():
    with OtlpReceiver() as receiver:
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=receiver.endpoint), export_interval_millis=60_000
        )
        provider = MeterProvider(
            resource=Resource.create({"service.name": "probe"}), metric_readers=[reader]
        )
        meter = provider.get_meter("probe")
        meter.create_counter("things").add(3, {"kind": "x"})
        meter.create_histogram("latency", unit="ms").record(12.5)
        provider.force_flush()
        points = receiver.wait_for(lambda r: len(r.points) >= 2 and r.points)
        provider.shutdown()
        by_name = {p.metric: p for p in points}
        assert (by_name["things"].value, by_name["things"].attributes) == (3.0, {"kind": "x"})
        assert (by_name["latency"].value, by_name["latency"].sum) == (1.0, 12.5)
        assert by_name["latency"].unit == "ms" and by_name["things"].service == "probe"


def test_wait_for_fails_when_nothing_arrives():
    with OtlpReceiver() as receiver:
        try:
            receiver.wait_for(lambda r: r.spans, timeout=0.1)
        except AssertionError as exc:
            assert "not received" in str(exc)
        else:
            raise AssertionError("wait_for returned without spans")
