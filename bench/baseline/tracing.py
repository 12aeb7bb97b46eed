"""OpenTelemetry for the bare processes, from the same OTEL_* variables as Settle's: plain SDK
setup and the stock gRPC instrumentation, so "the same tracing setting" costs the bare chain what
tracing itself costs, without Settle's own spans and attributes."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor


def setup(name: str):
    """(server interceptors, client interceptors, shutdown) for this process."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return [], [], lambda: None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"bare-{name}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return [aio_server_interceptor()], aio_client_interceptors(), provider.shutdown
