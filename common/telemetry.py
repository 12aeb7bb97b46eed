"""OpenTelemetry for one process, configured by the standard OTEL_* variables.

Traces go to OTLP/gRPC when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER is not "none"; sampling follows
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parent-based by default; see
common/span_pipeline.py for Settle's two additions). Metrics are exported by OTLP alongside traces
and served for Prometheus on `<SERVICE>_METRICS_PORT` when it is set (127.0.0.1 unless
METRICS_BIND_ALL is set, as it is in containers). OTEL_SDK_DISABLED=true turns tracing off.

`build_telemetry` makes the providers without touching process globals (tests build several);
`setup_telemetry` also installs them as OpenTelemetry's globals, which the gRPC and SQLAlchemy
instrumentations read; OpenTelemetry allows that once per process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from common.metrics import SettleMetrics
from common.span_pipeline import RedactingSpanExporter, settle_sampler

FLUSH_TIMEOUT_MS = 5_000


def _otlp_configured(signal: str) -> bool:
    if os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    )


@dataclass
class MetricsEndpoint:
    """The Prometheus scrape endpoint (prometheus_client's WSGI server on its own thread)."""

    server: WSGIServer
    thread: threading.Thread
    port: int

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    metrics: SettleMetrics  # what services record through (common/metrics.py)
    metrics_endpoint: MetricsEndpoint | None = None
    _closed: bool = field(default=False, repr=False)

    def tracer(self, name: str = "settle") -> trace.Tracer:
        return self.tracer_provider.get_tracer(name)

    @property
    def metrics_port(self) -> int | None:
        return self.metrics_endpoint.port if self.metrics_endpoint else None

    def instrument_engine(self, engine) -> None:
        """Database spans (db.* attributes, statements without their parameters) for every
        statement of this engine made inside a recorded trace (common/db/spans.py). The
        instrumentation's own `SQLAlchemyInstrumentor` works once per process and patches
        `create_engine` globally, so a second engine (another service or a test's) would go
        untraced; its per-engine tracer has neither problem."""
        from opentelemetry.instrumentation.sqlalchemy.version import __version__

        from common.db.spans import RecordedOnly

        scope = "opentelemetry.instrumentation.sqlalchemy"
        usage = self.meter_provider.get_meter(scope, __version__).create_up_down_counter(
            "db.client.connections.usage",
            unit="connections",
            description="Connections in the state described by the state attribute",
        )
        RecordedOnly(
            self.tracer_provider.get_tracer(scope, __version__),
            engine.sync_engine,
            usage,
            enable_commenter=False,
        )

    def flush(self) -> None:
        self.tracer_provider.force_flush(FLUSH_TIMEOUT_MS)
        self.meter_provider.force_flush(FLUSH_TIMEOUT_MS)

    async def shutdown(self) -> None:
        """Exports what is buffered and stops the exporters and the scrape endpoint. Blocking
        work runs on a thread so the event loop keeps finishing other shutdown tasks."""
        if self._closed:
            return
        self._closed = True
        if self.metrics_endpoint is not None:
            await asyncio.to_thread(self.metrics_endpoint.stop)
        await asyncio.to_thread(self._shutdown_providers)

    def _shutdown_providers(self) -> None:
        self.tracer_provider.force_flush(FLUSH_TIMEOUT_MS)
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def _resource(service: str) -> Resource:
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
    return Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"settle-{service}"),
            "service.namespace": "settle",
            # Tells replicas apart in OTLP metrics (Prometheus adds its own `instance` label).
            "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        }
    )


def _tracer_provider(resource: Resource) -> TracerProvider:
    exporting = _otlp_configured("traces")
    provider = TracerProvider(resource=resource, sampler=settle_sampler(exporting))
    if exporting:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(OTLPSpanExporter())))
    return provider


def _metrics_endpoint(port: int):
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, start_http_server

    # A registry of our own: nothing else in the process (or a second Telemetry in tests)
    # can add to what this endpoint serves, or clash with it.
    registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader(registry=registry)
    addr = "0.0.0.0" if os.environ.get("METRICS_BIND_ALL") else "127.0.0.1"
    server, thread = start_http_server(port, addr=addr, registry=registry)
    return reader, MetricsEndpoint(server, thread, server.server_port)


def build_telemetry(service: str, metrics_port: int | None = None) -> Telemetry:
    """Providers for this process, not installed globally. `metrics_port=0` picks a free port
    (tests); None serves no Prometheus endpoint."""
    resource = _resource(service)
    readers, endpoint = [], None
    if metrics_port is not None:
        reader, endpoint = _metrics_endpoint(metrics_port)
        readers.append(reader)
    if _otlp_configured("metrics"):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    return Telemetry(
        tracer_provider=_tracer_provider(resource),
        meter_provider=meter_provider,
        metrics=SettleMetrics(meter_provider.get_meter("settle")),
        metrics_endpoint=endpoint,
    )


def setup_telemetry(service: str, metrics_port: int | None = None) -> Telemetry:
    """build_telemetry, installed as the process's global providers (once per process)."""
    telemetry = build_telemetry(service, metrics_port)
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
    return telemetry
