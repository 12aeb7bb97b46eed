"""The response clock (OLA) in the team's business calendar: warnings and breach fire once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from common.clock import ManualClock
from common.metrics import SettleMetrics
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import START, raise_request, start_escalation

# Raised Monday 10:00 Berlin; 24 business hours of Mon–Fri 09:00–17:00 Berlin.
WARNING_50 = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # Tuesday 14:00 Berlin
WARNING_75 = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # Wednesday 12:00 Berlin
BREACH = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # Thursday 10:00 Berlin


async def actions(esc, name: str) -> list[str]:
    history = await esc.stub.ListEscalationHistory(pb.ListEscalationHistoryRequest(parent=name))
    return [h.action for h in history.entries]


async def test_due_time_is_three_business_days_in_the_team_calendar(esc):
    e = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    clock = e.response_clock
    assert clock.status == pb.RUNNING and clock.target_minutes == 1440
    assert clock.due_time.ToDatetime(tzinfo=UTC) == BREACH
    assert clock.remaining_minutes == 1440 and not clock.breached


async def test_warnings_and_breach_fire_once_each_at_their_time(esc):
    e = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    sweeper = esc.parts.sweeper
    esc.clock.set(datetime(2026, 3, 3, 12, 59, 59, tzinfo=UTC))
    await sweeper.sweep_once()
    assert await actions(esc, e.name) == ["RAISED"]
    esc.clock.set(WARNING_50)
    assert await sweeper.sweep_once() == 1
    assert await sweeper.sweep_once() == 0
    assert await actions(esc, e.name) == ["RAISED", "OLA_WARNING_50"]
    esc.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # days late: both fire, once
    await sweeper.sweep_once()
    await sweeper.sweep_once()
    assert await actions(esc, e.name) == [
        "RAISED",
        "OLA_WARNING_50",
        "OLA_WARNING_75",
        "OLA_BREACH",
    ]
    now = await esc.stub.GetEscalation(pb.GetEscalationRequest(name=e.name))
    assert list(now.response_clock.fired) == ["WARNING_50", "WARNING_75", "BREACH"]
    assert now.response_clock.breached and now.response_clock.remaining_minutes < 0
    assert now.etag == e.etag  # clock events never make a user's etag stale


async def test_sweepers_side_by_side_fire_each_milestone_once(esc):
    made = [
        await esc.stub.RaiseEscalation(raise_request(f"disputes/{i:032x}", team=pb.SALES))
        for i in range(6)
    ]
    esc.clock.set(BREACH)
    await asyncio.gather(*(esc.parts.sweeper.sweep_once() for _ in range(4)))
    for e in made:
        assert (await actions(esc, e.name)).count("OLA_BREACH") == 1


async def test_paused_time_is_not_counted(esc):
    e = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES))
    e = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
    esc.clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # one business hour spent
    e = await esc.stub.RequestEscalationInfo(
        pb.RequestEscalationInfoRequest(name=e.name, question="Which price list?")
    )
    esc.clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=UTC))  # a week later, nothing fired
    await esc.parts.sweeper.sweep_once()
    e = await esc.stub.ProvideEscalationInfo(
        pb.ProvideEscalationInfoRequest(name=e.name, answer="2026 list")
    )
    assert e.response_clock.remaining_minutes == 1440 - 60
    # 23 business hours from Monday 11:00 Berlin: Thursday 10:00 Berlin.
    assert e.response_clock.due_time.ToDatetime(tzinfo=UTC) == datetime(
        2026, 3, 12, 9, 0, tzinfo=UTC
    )
    assert "OLA_BREACH" not in await actions(esc, e.name)


async def test_a_milestone_passed_before_an_answer_is_recorded_before_it(esc):
    e = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES))
    await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
    esc.clock.set(WARNING_75)  # the sweeper has not run
    done = await esc.stub.RespondToEscalation(
        pb.RespondToEscalationRequest(name=e.name, outcome_code="PRICE_CONFIRMED")
    )
    assert list(done.response_clock.fired) == ["WARNING_50", "WARNING_75"]
    assert done.response_clock.status == pb.MET and not done.response_clock.breached
    esc.clock.set(datetime(2026, 4, 1, tzinfo=UTC))
    await esc.parts.sweeper.sweep_once()
    assert await actions(esc, e.name) == [
        "RAISED",
        "CLAIMED",
        "OLA_WARNING_50",
        "OLA_WARNING_75",
        "OLA_MET",
        "RESPONDED",
    ]


async def test_the_running_sweeper_fires_when_the_clock_reaches_the_due_time(escalation_url):
    clock = ManualClock(START)
    async with start_escalation(escalation_url, clock, workers=True) as esc:
        e = await esc.stub.RaiseEscalation(raise_request(team=pb.LEGAL))
        clock.set(BREACH)
        for _ in range(100):
            if "OLA_BREACH" in await actions(esc, e.name):
                break
            await asyncio.sleep(0.05)
        assert await actions(esc, e.name) == [
            "RAISED",
            "OLA_WARNING_50",
            "OLA_WARNING_75",
            "OLA_BREACH",
        ]


async def test_milestones_are_counted_and_a_breach_span_links_to_the_raising_trace(esc):
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    sweeper = esc.parts.sweeper
    sweeper.tracer = provider.get_tracer("test")
    sweeper.ctx = replace(sweeper.ctx, metrics=SettleMetrics(meter))
    with provider.get_tracer("test").start_as_current_span("collector escalates") as root:
        e = await esc.stub.RaiseEscalation(raise_request(team=pb.LEGAL))
    esc.clock.set(BREACH)
    await sweeper.sweep_once()
    (breach,) = [s for s in spans.get_finished_spans() if s.name == "settle.sla.breach"]
    assert breach.attributes["settle.escalation.id"] == e.name.split("/")[1]
    assert breach.attributes["settle.team"] == "LEGAL" and breach.attributes["settle.sla.breach"]
    assert breach.status.status_code is StatusCode.ERROR
    assert [link.context.trace_id for link in breach.links] == [root.get_span_context().trace_id]
    warnings = [s for s in spans.get_finished_spans() if s.name == "settle.sla.warning"]
    assert len(warnings) == 2
    counted = {
        m.name: sum(p.value for p in m.data.data_points)
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name in ("settle.sla.warnings", "settle.sla.breaches")
    }
    assert counted["settle.sla.warnings"] == 2 and counted["settle.sla.breaches"] == 1
