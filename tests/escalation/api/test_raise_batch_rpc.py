"""RaiseEscalations: many raises in one call and one transaction, each answered on its own, each
exactly what RaiseEscalation would have done (idempotent by its request id, one open escalation per
subject and team, severity never lowered); the batch worked under one span linked to each item's
own trace."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from common.actor import reset_actor
from common.outbox import LeasedEvent
from common.tracing import ESCALATION_ID, EVENT_ID
from gateway.access import ACCESS, INTERNAL
from services.disputes.outbound import escalation_messages, escalation_sender
from services.escalation.data import repository as repo
from services.escalation.data.models import OutboxEventRow
from services.escalation.outbound import disputes
from services.escalation.service import raise_telemetry
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request
from tests.support.rpc import as_actor, channel, expect_error

DISPUTE = "disputes/" + "b" * 32
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"


def item(request: pb.RaiseEscalationRequest, trace_id: str = "") -> pb.RaiseEscalationsRequest.Item:
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01" if trace_id else ""
    return pb.RaiseEscalationsRequest.Item(request=request, traceparent=traceparent)


def breach(subject: str, request_id: str, **overrides) -> pb.RaiseEscalationRequest:
    fields = dict(
        reason_code="SLA_BREACH",
        raised_by="rule:sla-breach",
        trigger_event_id=f"ev-{request_id}",
        request_id=request_id,
        attributes={"dispute_reason": "QUALITY"},  # no better rule: TEAM_LEAD by the SLA fallback
    )
    fields.update(overrides)
    return raise_request(subject, **fields)


async def _history(esc, name: str) -> list[str]:
    page = await esc.stub.ListEscalationHistory(pb.ListEscalationHistoryRequest(parent=name))
    return [e.action for e in page.entries]


async def test_each_item_is_answered_alone_in_order(esc):
    items = [
        item(breach(DISPUTE, "r-1", reason_code="SLA_WARNING", raised_by="rule:sla-warning")),
        item(breach(DISPUTE, "r-2", reason_code="sla breach")),  # invalid: its own answer
        item(breach(DISPUTE, "r-3")),  # the same case and team, higher: raised again, in order
        item(breach(DISPUTE, "r-1", reason_code="SLA_WARNING", raised_by="rule:sla-warning")),
        item(breach(DISPUTE, "r-3", summary="other content")),  # a key reused for other content
        item(breach("customers/" + "c" * 32, "r-4", team=pb.SALES)),
        item(breach("customers/" + "c" * 32, "r-5", team=pb.SALES, severity=pb.LOW)),  # not lower
    ]
    answer = await esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=items))
    errors = [i for i, r in enumerate(answer.results) if r.WhichOneof("result") == "error"]
    assert len(answer.results) == len(items) and errors == [1, 4]
    first, bad, again, repeated, reused, sales, not_lower = answer.results
    assert again.escalation.name == first.escalation.name == repeated.escalation.name
    assert first.escalation.severity == pb.LOW and again.escalation.severity == pb.HIGH
    assert repeated.escalation == first.escalation  # the first answer, as RaiseEscalation replays
    assert bad.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad_request = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad_request) for d in bad.error.details)
    assert [v.field for v in bad_request.field_violations] == ["reason_code"]
    assert reused.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "request_id" in reused.error.message or reused.error.details
    assert sales.escalation.team == pb.SALES and not_lower.escalation.severity == pb.MEDIUM
    assert await _history(esc, first.escalation.name) == ["RAISED", "SEVERITY_RAISED"]
    assert await _history(esc, sales.escalation.name) == ["RAISED", "RAISED_AGAIN"]

    # Sent again (the relay retrying after a lost answer): the same escalations as they are
    # now (as RaiseEscalation replays), the same errors, nothing new.
    replay = await esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=items))
    assert [r.escalation.name or r.error.code for r in replay.results] == [
        r.escalation.name or r.error.code for r in answer.results
    ]
    assert await _history(esc, first.escalation.name) == ["RAISED", "SEVERITY_RAISED"]
    queue = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert len(queue.escalations) == 2
    # And one by one, RaiseEscalation answers the same for the same request ids.
    single = await esc.stub.RaiseEscalation(items[0].request)
    assert single == replay.results[0].escalation


async def test_a_refused_item_does_not_stop_the_others(esc):
    person = as_actor("user:alice", "collector")  # a person may not raise for a rule
    try:
        answer = await esc.stub.RaiseEscalations(
            pb.RaiseEscalationsRequest(
                items=[
                    item(breach(DISPUTE, "r-1")),
                    item(raise_request(DISPUTE, team=pb.GBS, raised_by="")),
                ]
            )
        )
    finally:
        reset_actor(person)
    refused, raised = answer.results
    assert refused.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert raised.escalation.raised_by == "user:alice" and raised.escalation.team == pb.GBS


async def test_the_batch_itself_is_bounded(esc):
    await expect_error(
        esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="items",
    )
    too_many = [item(breach(f"disputes/{i:032x}", f"r-{i}")) for i in range(501)]
    await expect_error(
        esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=too_many)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="items",
    )


async def test_the_batch_is_one_span_linked_to_each_items_trace(esc, monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(raise_telemetry, "tracer", provider.get_tracer("test"))
    answer = await esc.stub.RaiseEscalations(
        pb.RaiseEscalationsRequest(
            items=[
                item(breach("disputes/" + "1" * 32, "r-1"), TRACE_A),
                item(breach("disputes/" + "2" * 32, "r-2"), TRACE_B),
                item(breach("disputes/" + "3" * 32, "r-3", reason_code="bad"), TRACE_B),
                item(breach("disputes/" + "4" * 32, "r-4", team=pb.LEGAL), "0" * 32),
            ]
        )
    )
    (span,) = exporter.get_finished_spans()  # the invalid item never reached the use case
    assert span.name == raise_telemetry.BATCH_SPAN
    assert span.attributes[raise_telemetry.ITEMS] == 3
    # Each item's trace (its producer's span) is a link: the breach's trace reaches the raise.
    linked = {(format(li.context.trace_id, "032x"), li.context.span_id): li.attributes
              for li in span.links}  # fmt: skip
    assert set(linked) == {(TRACE_A, 0x00F067AA0BA902B7), (TRACE_B, 0x00F067AA0BA902B7)}
    assert linked[(TRACE_A, 0x00F067AA0BA902B7)][EVENT_ID] == "r-1"
    # Each item's outcome is an event: its event id and escalation (none for the invalid trace).
    raised = {e.attributes[EVENT_ID]: e.attributes[ESCALATION_ID] for e in span.events}
    assert raised == {
        key: result.escalation.name.split("/")[1]
        for key, result in zip(("r-1", "r-2", "r-4"), answer.results[:2] + answer.results[3:],
                               strict=True)
    }  # fmt: skip
    # The escalation remembers its item's trace (its OLA breach links back to it), and so does
    # its RecordEscalation event; an item without a valid trace gets the call's.
    for result, trace_id in zip(answer.results, (TRACE_A, TRACE_B, None, None), strict=True):
        if trace_id is None:
            continue
        escalation_id = result.escalation.name.split("/")[1]
        async with esc.parts.ctx.db.transaction() as session:
            row = await repo.get_escalation(session, escalation_id)
            (event,) = await _record_escalation_events(session, result.escalation.subject)
        assert row.origin_traceparent == f"00-{trace_id}-00f067aa0ba902b7-01"
        assert event.traceparent == row.origin_traceparent
    async with esc.parts.ctx.db.transaction() as session:
        fourth = await repo.get_escalation(session, answer.results[3].escalation.name.split("/")[1])
    assert fourth.origin_traceparent.split("-")[1] != "0" * 32


async def test_a_large_batch_spreads_its_links_over_spans_within_the_sdk_limits(esc, monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(raise_telemetry, "tracer", provider.get_tracer("test"))
    items = [item(breach(f"disputes/{i:032x}", f"r-{i}"), TRACE_A) for i in range(250)]
    answer = await esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=items))
    assert all(r.WhichOneof("result") == "escalation" for r in answer.results)
    spans = exporter.get_finished_spans()
    assert sorted(len(s.links) for s in spans) == [50, 100, 100]
    assert sorted(len(s.events) for s in spans) == [50, 100, 100]
    events = {e.attributes[EVENT_ID] for s in spans for e in s.events}
    assert events == {f"r-{i}" for i in range(250)}


async def _record_escalation_events(session, subject: str):
    found = await session.execute(
        select(OutboxEventRow).where(
            OutboxEventRow.subject == subject, OutboxEventRow.method == disputes.RECORD_ESCALATION
        )
    )
    return list(found.scalars())


def test_only_services_call_it_the_gateway_does_not_expose_it():
    assert ACCESS["settle.escalation.v1.EscalationService/RaiseEscalations"] == INTERNAL


async def test_the_disputes_relay_sends_its_raises_together_each_answered_alone(esc):
    events = [
        LeasedEvent(
            id=request.request_id,
            destination="escalation",
            method=escalation_messages.METHOD,
            payload=request.SerializeToString(),
            subject=request.subject,
            traceparent=f"00-{TRACE_A}-00f067aa0ba902b7-01",
            attempts=1,
        )
        for request in (breach(DISPUTE, "ev-1"), breach(DISPUTE, "ev-2", reason_code="bad"))
    ]
    async with channel(esc.address, service="disputes") as ch:
        send = escalation_sender.SENDERS[escalation_messages.METHOD]
        delivered, refused = await send(ch, events, 5.0)
    assert delivered is None
    assert isinstance(refused, grpc.aio.AioRpcError)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT  # the relay parks it alone
    (raised,) = (await esc.stub.ListEscalations(pb.ListEscalationsRequest())).escalations
    assert raised.trigger_event_id == "ev-ev-1"
