"""Creating an escalation on a dispute tells the disputes service which team has the case
(RecordEscalation through the outbox, docs/contracts.md): once per new escalation, so a re-raise
to the same open escalation says nothing and one routed to another team says it again. A relay pass
sends its events in one RecordEscalations call; a disputes service from before that method gets
them one call each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from common.clock import ManualClock
from services.escalation.data.models import OutboxEventRow
from settle.disputes.v1 import disputes_pb2, disputes_pb2_grpc
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.service.test_answers_to_disputes import serve
from tests.escalation.support import START, raise_request, start_escalation

DISPUTE = "disputes/" + "d" * 32


class RecordingDisputes(disputes_pb2_grpc.DisputesServiceServicer):
    """A disputes service from before RecordEscalations (the relay falls back to single calls)."""

    def __init__(self):
        self.calls: list[tuple[disputes_pb2.RecordEscalationRequest, dict]] = []

    async def RecordEscalation(self, request, context):
        self.calls.append((request, dict(context.invocation_metadata())))
        return disputes_pb2.Dispute(name=request.dispute)


class BatchRecordingDisputes(RecordingDisputes):
    def __init__(self):
        super().__init__()
        self.batches: list[disputes_pb2.RecordEscalationsRequest] = []

    async def RecordEscalations(self, request, context):
        self.batches.append(request)
        for item in request.items:
            self.calls.append((item.request, dict(context.invocation_metadata())))
        return disputes_pb2.RecordEscalationsResponse(
            results=[
                disputes_pb2.RecordEscalationsResponse.Result(
                    dispute=disputes_pb2.Dispute(name=item.request.dispute)
                )
                for item in request.items
            ]
        )


@pytest.mark.parametrize("fake_type", [BatchRecordingDisputes, RecordingDisputes])
async def test_a_new_escalation_on_a_dispute_is_recorded_there_once(escalation_url, fake_type):
    fake = fake_type()
    server, address = await serve(fake)
    try:
        async with start_escalation(escalation_url, ManualClock(START), disputes=address) as esc:
            sales = await esc.stub.RaiseEscalation(
                raise_request(DISPUTE, team=pb.SALES, request_id="r-1")
            )
            await esc.stub.RaiseEscalation(raise_request(DISPUTE, team=pb.SALES, request_id="r-1"))
            await esc.stub.RaiseEscalation(  # the open one again, higher: no new team
                raise_request(DISPUTE, team=pb.SALES, severity=pb.CRITICAL)
            )
            legal = await esc.stub.RaiseEscalation(raise_request(DISPUTE, team=pb.LEGAL))
            await esc.stub.RaiseEscalation(raise_request("customers/" + "e" * 32, team=pb.GBS))
            while await esc.parts.relay.relay_once():
                pass
            async with esc.parts.ctx.db.transaction() as session:
                event_ids = set(await session.scalars(select(OutboxEventRow.id)))
    finally:
        await server.stop(None)
    got = {request.team: (request, metadata) for request, metadata in fake.calls}
    assert len(fake.calls) == 2 and set(got) == {"SALES", "LEGAL"}
    request, metadata = got["SALES"]
    assert request == disputes_pb2.RecordEscalationRequest(
        dispute=DISPUTE, escalation=sales.name, team="SALES", request_id=request.request_id
    )
    # The event's one carrier of its id is request_id: the id of the outbox event that sent it.
    assert {r.request_id for r, _ in fake.calls} == event_ids
    assert metadata["x-settle-subject"] == "service:escalation"
    assert got["LEGAL"][0].escalation == legal.name
    if isinstance(fake, BatchRecordingDisputes):  # one call for the relay pass
        (batch,) = fake.batches
        assert [i.request.team for i in batch.items] == ["SALES", "LEGAL"]
