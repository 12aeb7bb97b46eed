"""The metric names a Settle process really serves to Prometheus: every instrument of
common/metrics.py recorded once, scraped from a real endpoint. Alerts and docs are checked
against this list, so a renamed metric breaks them in tests, not in production."""

from __future__ import annotations

import asyncio
import os
import urllib.request
from functools import cache
from unittest import mock

from prometheus_client.parser import text_string_to_metric_families

from common import metrics as m
from common.metrics import RpcMetrics
from common.telemetry import build_telemetry


@cache
def exported_metrics() -> dict[str, frozenset[str]]:
    """Sample name -> its label names."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with mock.patch.dict(os.environ, clean, clear=True):
        telemetry = build_telemetry("names", metrics_port=0)
    try:
        kit = telemetry.metrics
        for kind in m.SLA_KINDS:
            kit.sla_event(kind, clock="c", reason="r", team="t", policy="p")
        kit.time_to_breach(1, clock="c", team="t", policy="p")
        kit.time_to_resolve(1, reason="r", team="t", policy="p", outcome="o")
        kit.outbox_delivery("d", "delivered")
        kit.promises_broken(1)
        for gauge, (_, _, attributes) in m.GAUGES.items():
            kit.report(gauge, [(1, dict.fromkeys(attributes, "x"))])
        RpcMetrics(telemetry.meter_provider.get_meter("settle.rpc")).record("/s.S/M", 0, 0.01)
        url = f"http://127.0.0.1:{telemetry.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        asyncio.run(telemetry.shutdown())
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return {name: frozenset(names) for name, names in labels.items()}
