"""One OTLP receiver and one set of global OpenTelemetry providers for the whole session.

OpenTelemetry lets a process install its global providers once, and the gRPC instrumentation reads
them; so the session installs them (`setup_telemetry`, as `python -m services.<name>` does) with
their exporters pointed at the session's receiver. Tests find their own spans by trace id.
Tests that need other settings (sampling, exporters) use `build_telemetry`, which installs
nothing, or start a real process.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from opentelemetry import metrics, trace

from common.telemetry import Telemetry, setup_telemetry
from tests.support.otlp import OtlpReceiver

# Short export delays so tests wait milliseconds, not the 5 s / 60 s defaults.
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_METRIC_EXPORT_INTERVAL": "200"}
# Whatever the developer's shell says, the session's providers use the defaults.
CLEARED = ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SERVICE_NAME",
           "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_SDK_DISABLED",
           "OTEL_RESOURCE_ATTRIBUTES", "METRICS_BIND_ALL")  # fmt: skip


@pytest.fixture(scope="session")
def otlp():
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def session_telemetry(otlp) -> Telemetry:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, **FAST_EXPORT}
    saved = {k: os.environ.get(k) for k in (*env, *CLEARED)}
    os.environ.update(env)
    for key in CLEARED:
        os.environ.pop(key, None)
    try:
        telemetry = setup_telemetry("accounts", metrics_port=0)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    if trace.get_tracer_provider() is not telemetry.tracer_provider:
        pytest.fail("global OpenTelemetry providers were installed before this session's")
    assert metrics.get_meter_provider() is telemetry.meter_provider
    yield telemetry
    asyncio.run(telemetry.shutdown())


@pytest.fixture
def clean_env(monkeypatch):
    """Removes the OTEL_* settings a developer's shell may have, for build_telemetry tests."""
    for key in (*CLEARED, "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in FAST_EXPORT.items():
        monkeypatch.setenv(key, value)
    return monkeypatch
