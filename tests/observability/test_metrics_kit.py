"""SettleMetrics: stable names, units and attributes; gauges from reports, live sources and
polling workers; and the names SRE sees on the Prometheus endpoint."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from common import metrics as m
from common.metrics import SettleMetrics
from common.telemetry import build_telemetry


@pytest.fixture
def reader():
    return InMemoryMetricReader()


@pytest.fixture
def kit(reader) -> SettleMetrics:
    return SettleMetrics(MeterProvider(metric_readers=[reader]).get_meter("settle"))


def points(reader) -> dict[str, list[tuple[dict, object]]]:
    """metric name -> [(attributes, value or (count, sum))]"""
    out: dict[str, list] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    value = (p.count, p.sum) if hasattr(p, "count") else p.value
                    out.setdefault(metric.name, []).append((dict(p.attributes), value))
                out.setdefault(f"{metric.name}#unit", metric.unit)
    return out


def test_sla_events_count_by_clock_reason_team_and_policy(kit, reader):
    attrs = dict(clock="resolve", reason="PRICING", team="SALES", policy="std-5d")
    kit.sla_event("breach", **attrs)
    kit.sla_event("breach", **attrs)
    kit.sla_event("warning", **{**attrs, "team": None})
    got = points(reader)
    assert got[m.SLA_BREACHES] == [(attrs, 2)]
    assert got[m.SLA_WARNINGS] == [({**attrs, "team": ""}, 1)]
    with pytest.raises(ValueError):
        kit.sla_event("met", **attrs)


def test_sla_durations_are_histograms_in_seconds(kit, reader):
    kit.time_to_breach(3600, clock="resolve", team="GBS", policy="p")
    kit.time_to_resolve(7200, reason="PRICING", team="GBS", policy="p", outcome="CREDIT")
    kit.time_to_resolve(60, reason="PRICING", team="GBS", policy="p", outcome="CREDIT")
    got = points(reader)
    assert got[m.TIME_TO_BREACH] == [
        ({"clock": "resolve", "team": "GBS", "policy": "p"}, (1, 3600))
    ]
    assert got[m.TIME_TO_RESOLVE][0][1] == (2, 7260)
    assert got[f"{m.TIME_TO_BREACH}#unit"] == "s"


def test_outbox_outcomes_are_checked(kit, reader):
    kit.outbox_delivery("escalation", "delivered")
    kit.outbox_delivery("escalation", "retry")
    with pytest.raises(ValueError):
        kit.outbox_delivery("escalation", "lost")
    got = sorted(points(reader)[m.OUTBOX_DELIVERIES], key=lambda p: p[0]["outcome"])
    assert got == [
        ({"destination": "escalation", "outcome": "delivered"}, 1),
        ({"destination": "escalation", "outcome": "retry"}, 1),
    ]


def test_gauges_combine_reports_and_live_sources_and_forget_vanished_attributes(kit, reader):
    kit.report(
        m.CASES_OPEN, [(3, {"status": "OPEN", "team": "GBS"}), (1, {"status": "NEW", "team": ""})]
    )
    kit.observe(m.CASES_OPEN, lambda: [(7, {"status": "PENDING_INTERNAL", "team": "SALES"})])
    kit.observe(m.CASES_OPEN, lambda: 1 / 0)  # a broken source hides nothing else
    assert sorted(v for _, v in points(reader)[m.CASES_OPEN]) == [1, 3, 7]
    kit.report(m.CASES_OPEN, [(4, {"status": "OPEN", "team": "GBS"})])
    assert sorted(v for _, v in points(reader)[m.CASES_OPEN]) == [4, 7]
    with pytest.raises(KeyError):
        kit.report("settle.cases.opened", [])
    with pytest.raises(ValueError):  # label sets are fixed: status and team, nothing else
        kit.report(m.CASES_OPEN, [(1, {"status": "OPEN"})])


async def test_poll_reports_query_results_and_nothing_when_the_query_fails(kit, reader):
    answers = [{m.SWEEPER_LAG: [(12.5, {})]}, RuntimeError("database down")]
    polled = asyncio.Event()

    async def read():
        answer = answers.pop(0) if answers else {m.SWEEPER_LAG: [(1.0, {})]}
        polled.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    stop = asyncio.Event()
    task = asyncio.create_task(kit.poll([m.SWEEPER_LAG], read, every_s=0.05)(stop))
    await asyncio.wait_for(polled.wait(), 2)
    assert [v for _, v in points(reader)[m.SWEEPER_LAG]] == [12.5]
    polled.clear()
    await asyncio.wait_for(polled.wait(), 2)  # the failing query
    await asyncio.sleep(0.01)
    assert points(reader).get(m.SWEEPER_LAG, []) == []
    stop.set()
    await asyncio.wait_for(task, 2)


def test_noop_metrics_accept_every_call():
    kit = SettleMetrics.noop()
    kit.sla_event("breach", clock="c", reason="r", team="t", policy="p")
    kit.report(m.OUTBOX_LAG, [(1, {"destination": "x"})])


def test_prometheus_names_as_documented(clean_env):
    telemetry = build_telemetry("probe", metrics_port=0)
    try:
        kit = telemetry.metrics
        kit.sla_event("breach", clock="resolve", reason="PRICING", team="SALES", policy="p")
        kit.time_to_resolve(60, reason="PRICING", team="SALES", policy="p", outcome="CREDIT")
        kit.report(m.OUTBOX_LAG, [(2.5, {"destination": "escalation"})])
        url = f"http://127.0.0.1:{telemetry.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        asyncio.run(telemetry.shutdown())
    samples = {
        (
            sample.name,
            tuple(sorted((k, v) for k, v in sample.labels.items() if "otel_scope" not in k)),
        ): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = (("clock", "resolve"), ("policy", "p"), ("reason", "PRICING"), ("team", "SALES"))
    assert samples[("settle_sla_breaches_total", labels)] == 1
    resolved = (("outcome", "CREDIT"), ("policy", "p"), ("reason", "PRICING"), ("team", "SALES"))
    assert samples[("settle_case_time_to_resolve_seconds_count", resolved)] == 1
    assert samples[("settle_outbox_lag_seconds", (("destination", "escalation"),))] == 2.5
    with pytest.raises(OSError):  # the endpoint is gone after shutdown
        urllib.request.urlopen(url, timeout=2)
