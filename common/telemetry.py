"""OpenTelemetry for one process, configured by the standard OTEL_* variables.

Traces go to OTLP/gRPC when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER is not "none"; sampling follows
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parent-based by default). Metrics are served for
Prometheus when a metrics port is configured, and exported by OTLP alongside traces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def _otlp_configured(signal: str) -> bool:
    if os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    )


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    _instrumented: list = field(default_factory=list)

    def instrument_engine(self, engine) -> None:
        """Database spans (db.* attributes) for every statement of this engine."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine,
            tracer_provider=self.tracer_provider,
            enable_commenter=False,
        )

    async def shutdown(self) -> None:
        self.tracer_provider.force_flush(5_000)
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def setup_telemetry(service: str, metrics_port: int | None = None) -> Telemetry:
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"settle-{service}"),
            "service.namespace": "settle",
        }
    )
    tracer_provider = TracerProvider(resource=resource)  # sampler read from OTEL_TRACES_SAMPLER
    if _otlp_configured("traces"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)

    readers = []
    if metrics_port is not None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server

        start_http_server(
            metrics_port, addr="127.0.0.1" if not os.environ.get("METRICS_BIND_ALL") else "0.0.0.0"
        )
        readers.append(PrometheusMetricReader())
    if _otlp_configured("metrics"):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    metrics.set_meter_provider(meter_provider)
    return Telemetry(tracer_provider, meter_provider)
