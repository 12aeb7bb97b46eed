"""The disputes service's telemetry on real servers and a ManualClock, exported over OTLP to a real
receiver: a case opened under a sampled trace, its acknowledge clock warned and breached by the
sweeper, the escalation events delivered, the case resolved. Checked: the breach span (ERROR,
linked to the origin trace) and the warning spans, a clock event per firing; the escalation event
travelling in the breach's trace; SLA metrics by clock, reason, team and policy; GetDisputeTrace;
a log line per committed batch with its counts and case ids; no personal data in any span.

The providers are built with `build_telemetry` and never installed globally (the observability
session owns the globals, see tests/observability/conftest.py), so the RPC server spans and the
relay's delivery spans are not recorded here: tests/disputes/test_trace_e2e.py sees those in real
processes."""

from __future__ import annotations

import uuid

import grpc
import pytest
import structlog
from opentelemetry import context as otel_context
from sqlalchemy import select
from structlog.testing import capture_logs

from common import tracing
from common.telemetry import build_telemetry
from services.disputes.data.models import OutboxEventRow
from services.disputes.service.firing_telemetry import FIRINGS, LATENESS_MS, THRESHOLD
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s
from tests.disputes.conftest import start_system
from tests.observability.conftest import CLEARED, FAST_EXPORT
from tests.support.otlp import OtlpReceiver
from tests.support.pii import personal_data_in
from tests.support.rpc import expect_error

NOTE = "Ana Buch (ana.buch@acme.example, +49 30 1234567) says the price was 10 % lower"
ACK = {"clock": "ACKNOWLEDGE", "reason": "PRICING", "team": "", "policy": "acknowledge-default"}


@pytest.fixture(scope="module")
def receiver():
    with OtlpReceiver() as r:
        yield r


@pytest.fixture
async def traced(backend, database_factory, receiver, monkeypatch):
    """A disputes server with its own (not global) providers exporting to the receiver."""
    for key in (*CLEARED, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    service = f"settle-disputes-{uuid.uuid4().hex[:8]}"  # this test's spans and points
    for key, value in {**FAST_EXPORT, "OTEL_SERVICE_NAME": service}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    telemetry = build_telemetry("disputes")
    try:
        async with start_system(backend, database_factory, telemetry) as system:
            yield system, telemetry, service
    finally:
        await telemetry.shutdown()


def upstream() -> str:
    """A sampled caller's traceparent, as a gateway would send it."""
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


class under:
    """Calls made inside carry `traceparent` (the channel's interceptor propagates it)."""

    def __init__(self, traceparent: str):
        self.context = tracing.context_from(traceparent)

    def __enter__(self):
        self.token = otel_context.attach(self.context)

    def __exit__(self, *exc):
        otel_context.detach(self.token)


def latest(receiver: OtlpReceiver, service: str, metric: str) -> dict[tuple, object]:
    """attributes -> the last exported point (exports are cumulative)."""
    found = {}
    for p in receiver.points:
        if p.service == service and p.metric == metric:
            found[tuple(sorted(p.attributes.items()))] = p
    return found


async def test_breach_is_traced_counted_and_listed_for_sre(traced, receiver):
    system, telemetry, service = traced
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-T1")
    origin = upstream()
    origin_id = tracing.trace_id_of(origin)
    with under(origin):
        case = await system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name), first_note=NOTE))
        )
    case_id = case.name.removeprefix("disputes/")

    # Monday 09:00: acknowledge (8 business hours) warns at 13:00 and 15:00, breaches at 17:00.
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        system.clock.set(system.clock.now().replace(hour=13))
        assert await system.sweep() == 1
        system.clock.set(system.clock.now().replace(hour=17))
        assert await system.sweep() == 2
        await system.relay()
        with under(upstream()):  # a refused request still logs with its case
            await expect_error(
                system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name, etag="x")),
                grpc.StatusCode.ABORTED,
            )
    # One line per committed batch, with its counts and cases (not a line per firing).
    fired = [e for e in logs if e["event"] == "sla milestones fired"]
    assert [(e["warnings"], e["breaches"], e["case_ids"]) for e in fired] == [
        (1, 0, [case_id]),
        (1, 1, [case_id]),
    ], fired
    refused = [e for e in logs if e["event"] == "rpc refused"]
    assert refused and all(e.get("case_id") == case_id for e in refused), refused

    telemetry.flush()
    spans = await receiver.until(
        lambda r: (
            len([x for x in r.spans_for(service) if x.name.startswith("settle.sla.")]) >= 5
            and r.spans_for(service)
        )
    )
    (breach,) = [x for x in spans if x.name == "settle.sla.breach"]
    assert (breach.status, breach.parent_span_id) == ("error", None)  # its own trace, red
    assert breach.trace_id != origin_id
    assert [(li.trace_id, li.attributes) for li in breach.links] == [
        (origin_id, {tracing.LINK_ROLE: "origin"})
    ]
    clock_attrs = {
        tracing.CASE_ID: case_id,
        tracing.CLOCK_KIND: "ACKNOWLEDGE",
        tracing.POLICY: "acknowledge-default",
        tracing.TARGET_S: 8 * 3600.0,
        tracing.BUSINESS_REMAINING_S: 0.0,
    }
    # The batch's breaches share the span (here one): each is an event with its case and clock.
    assert breach.attributes.items() >= {tracing.SLA_BREACH: True, FIRINGS: 1}.items()
    (event,) = breach.events
    assert event.name == "settle.sla.breached"
    assert event.attributes == {
        tracing.CLOCK_EVENT: "breached",
        **clock_attrs,
        THRESHOLD: "BREACH",
        LATENESS_MS: 0,
        tracing.REASON: "PRICING",
        tracing.TEAM: "",
    }

    warnings = sorted(
        (x for x in spans if x.name == "settle.sla.warning"), key=lambda x: x.start_ns
    )
    # 75 % fired two hours late, with the breach: 0 business time left
    fired_warnings = zip(
        warnings, ("WARNING_50", "WARNING_75"), (4 * 3600.0, 0.0), (0, 2 * 3600_000), strict=True
    )
    for warning, threshold, left, late in fired_warnings:
        assert warning.parent_span_id is None and warning.status == "unset"
        assert [li.trace_id for li in warning.links] == [origin_id]
        (event,) = warning.events
        assert event.name == "settle.sla.warned"
        assert event.attributes == {
            tracing.CLOCK_EVENT: "warned",
            **clock_attrs,
            tracing.BUSINESS_REMAINING_S: left,
            THRESHOLD: threshold,
            LATENESS_MS: late,
            tracing.REASON: "PRICING",
            tracing.TEAM: "",
        }
    sweeps = [x for x in spans if x.name == "settle.sla.sweep"]
    assert sorted(x.attributes["settle.sweep.fired"] for x in sweeps) == [1, 2]
    sweep_ids = {x.span_id for x in sweeps}
    assert any(x.parent_span_id in sweep_ids and "db.system" in x.attributes for x in spans)
    assert personal_data_in(spans, known=["Ana Buch", "ana.buch@acme.example"]) == []

    # The escalation event (the breach's: warnings do not escalate by default) was written inside
    # the breach span, and delivered in its trace.
    async with system.assembly.ctx.db.transaction() as session:
        carried = (
            await session.scalars(
                select(OutboxEventRow.traceparent).where(OutboxEventRow.destination == "escalation")
            )
        ).all()
    trace_ids = {tracing.trace_id_of(t) for t in carried}
    assert trace_ids == {breach.trace_id}
    delivered = {
        r.attributes["threshold"]: tracing.trace_id_of(tp)
        for r, tp in zip(system.escalation.received, system.escalation.traceparents, strict=True)
    }
    assert delivered == {"BREACH": breach.trace_id}

    # Resolution: time to resolve, with the root cause's team.
    with under(upstream()):
        case = await system.disputes.AssignDispute(
            pb.AssignDisputeRequest(name=case.name, assignee="user:alice")
        )
        await system.disputes.ResolveDispute(
            pb.ResolveDisputeRequest(
                name=case.name, etag=case.etag, root_cause_code="BILLING_ERROR", outcome=pb.CREDITED
            )
        )
    telemetry.flush()
    breaches = latest(receiver, service, "settle.sla.breaches")
    assert {k: p.value for k, p in breaches.items()} == {tuple(sorted(ACK.items())): 1}
    assert {k: p.value for k, p in latest(receiver, service, "settle.sla.warnings").items()} == {
        tuple(sorted(ACK.items())): 2
    }
    (to_breach,) = latest(receiver, service, "settle.sla.time_to_breach").values()
    assert (to_breach.value, to_breach.sum) == (1, 8 * 3600.0)
    (to_resolve,) = latest(receiver, service, "settle.case.time_to_resolve").values()
    assert to_resolve.attributes == {
        "reason": "PRICING",
        "team": "GBS",
        "policy": "resolve-fast",
        "outcome": "CREDITED",
    }
    assert to_resolve.sum == 8 * 3600.0

    # The SRE view: origin first, every action's trace, the breach's trace, the clock events.
    view = await system.disputes.GetDisputeTrace(pb.GetDisputeTraceRequest(name=case.name))
    assert (view.dispute, view.origin_trace_id) == (case.name, origin_id)
    assert list(view.breach_trace_ids) == [breach.trace_id]
    first = view.traces[0]
    assert (first.trace_id, first.sampled) == (origin_id, True)
    assert list(first.kinds) == ["CREATED", "CLOCK_STARTED", "CLOCK_STARTED"]
    assert [t.trace_id for t in view.traces[1:4]] == [w.trace_id for w in warnings] + [
        breach.trace_id
    ]
    assert {c.kind for c in view.clocks} == {pb.ACKNOWLEDGE, pb.RESOLVE}
    events = [(e.clock, e.event, e.threshold) for e in view.clock_events]
    assert events[:5] == [
        (pb.ACKNOWLEDGE, "started", ""),
        (pb.RESOLVE, "started", ""),
        (pb.ACKNOWLEDGE, "warned", "WARNING_50"),
        (pb.ACKNOWLEDGE, "warned", "WARNING_75"),
        (pb.ACKNOWLEDGE, "breached", "BREACH"),
    ]
    assert {(c, e) for c, e, _ in events[5:]} == {(pb.ACKNOWLEDGE, "met"), (pb.RESOLVE, "met")}
    started, _, warned, _, breached = view.clock_events[:5]
    assert started.business_time_remaining.ToSeconds() == 8 * 3600
    assert started.policy == "slaPolicies/acknowledge-default"
    assert warned.business_time_remaining.ToSeconds() == 4 * 3600
    assert (breached.business_time_remaining.ToSeconds(), breached.trace_id) == (
        0,
        breach.trace_id,
    )


async def test_get_dispute_trace_refuses_bad_and_unknown_names(system):
    await expect_error(
        system.disputes.GetDisputeTrace(pb.GetDisputeTraceRequest(name="cases/1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="name",
    )
    await expect_error(
        system.disputes.GetDisputeTrace(
            pb.GetDisputeTraceRequest(name=f"disputes/{uuid.uuid4().hex}")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
