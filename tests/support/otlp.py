"""A real OTLP/gRPC receiver for tests: what the processes' exporters send is what we assert on.

It is a `grpc.aio` server on 127.0.0.1:0 implementing the collector's TraceService/Export and
MetricsService/Export, running on its own thread and event loop, so one receiver can serve a whole
session (and subprocesses) whatever loop each test runs in.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

KINDS = {v: k.removeprefix("SPAN_KIND_").lower() for k, v in trace_pb2.Span.SpanKind.items()}
STATUS = {v: k.removeprefix("STATUS_CODE_").lower() for k, v in trace_pb2.Status.StatusCode.items()}


def value_of(any_value: common_pb2.AnyValue):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return tuple(value_of(v) for v in any_value.array_value.values)
    if kind == "kvlist_value":
        return attributes_of(any_value.kvlist_value.values)
    return getattr(any_value, kind) if kind else None


def attributes_of(key_values) -> dict:
    return {kv.key: value_of(kv.value) for kv in key_values}


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str
    attributes: dict


@dataclass(frozen=True)
class SpanEvent:
    name: str
    attributes: dict


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    scope: str
    name: str
    kind: str  # "server", "client", "internal", "producer", "consumer"
    trace_id: str  # 32 hex
    span_id: str  # 16 hex
    parent_span_id: str | None
    attributes: dict
    events: tuple[SpanEvent, ...]
    links: tuple[SpanLink, ...]
    status: str  # "unset", "ok", "error"
    status_message: str
    start_ns: int
    end_ns: int

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


@dataclass(frozen=True)
class ReceivedPoint:
    service: str
    metric: str
    unit: str
    attributes: dict
    value: float  # sum/gauge value, or a histogram's count
    sum: float | None = None  # histograms only


@dataclass
class OtlpReceiver:
    spans_received: list[ReceivedSpan] = field(default_factory=list)
    points_received: list[ReceivedPoint] = field(default_factory=list)
    port: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OtlpReceiver:
        ready, failure = threading.Event(), []

        async def serve() -> None:
            server = grpc.aio.server()
            trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(self), server)
            metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(self), server)
            self.port = server.add_insecure_port("127.0.0.1:0")
            await server.start()
            self._stop = asyncio.Event()
            ready.set()
            await self._stop.wait()
            await server.stop(0)

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            except BaseException as exc:  # surfaced by start(), not lost on a thread
                failure.append(exc)
                ready.set()
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="otlp-receiver", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"OTLP receiver did not start: {failure}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- queries -----------------------------------------------------------------------------
    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans_received)

    @property
    def points(self) -> list[ReceivedPoint]:
        with self._lock:
            return list(self.points_received)

    def clear(self) -> None:
        with self._lock:
            self.spans_received.clear()
            self.points_received.clear()

    def spans_for(self, service: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.service == service]

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return sorted((s for s in self.spans if s.trace_id == trace_id), key=lambda s: s.start_ns)

    def named(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.name == name]

    def wait_for(self, predicate: Callable[[OtlpReceiver], object], timeout: float = 10.0):
        """Polls until predicate(receiver) is truthy and returns its value; fails on timeout.
        Blocking: exporters run on their own threads, so this is fine in sync tests; async
        tests use `until`, which leaves the loop free for the servers under test."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not received within {timeout}s; spans: {self.summary()}")
            time.sleep(0.02)

    async def until(self, predicate: Callable[[OtlpReceiver], object], within: float = 10.0):
        deadline = time.monotonic() + within
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not received within {within}s; spans: {self.summary()}")
            await asyncio.sleep(0.02)

    def summary(self) -> list[str]:
        return [f"{s.service}:{s.name}@{s.trace_id[:8]}" for s in self.spans][-40:]

    # -- ingestion (receiver thread) ---------------------------------------------------------
    def _add_spans(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            service = attributes_of(resource_spans.resource.attributes).get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                spans += [_span(service, scope_spans.scope.name, s) for s in scope_spans.spans]
        with self._lock:
            self.spans_received.extend(spans)

    def _add_metrics(self, request: metrics_service_pb2.ExportMetricsServiceRequest) -> None:
        points = []
        for resource_metrics in request.resource_metrics:
            service = attributes_of(resource_metrics.resource.attributes).get("service.name", "")
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    points += _points(service, metric)
        with self._lock:
            self.points_received.extend(points)


def _span(service: str, scope: str, span: trace_pb2.Span) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        scope=scope,
        name=span.name,
        kind=KINDS.get(span.kind, str(span.kind)),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        attributes=attributes_of(span.attributes),
        events=tuple(SpanEvent(e.name, attributes_of(e.attributes)) for e in span.events),
        links=tuple(
            SpanLink(li.trace_id.hex(), li.span_id.hex(), attributes_of(li.attributes))
            for li in span.links
        ),
        status=STATUS.get(span.status.code, str(span.status.code)),
        status_message=span.status.message,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
    )


def _points(service: str, metric) -> list[ReceivedPoint]:
    kind = metric.WhichOneof("data")
    data = getattr(metric, kind)
    out = []
    for p in data.data_points:
        if kind in ("histogram", "exponential_histogram", "summary"):
            value, total = float(p.count), p.sum
        else:
            value = p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)
            total = None
        out.append(
            ReceivedPoint(
                service, metric.name, metric.unit, attributes_of(p.attributes), value, total
            )
        )
    return out


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: OtlpReceiver):
        self.receiver = receiver

    async def Export(self, request, context):
        self.receiver._add_spans(request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: OtlpReceiver):
        self.receiver = receiver

    async def Export(self, request, context):
        self.receiver._add_metrics(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()
