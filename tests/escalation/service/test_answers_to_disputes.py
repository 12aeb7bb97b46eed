"""Resolving or handing back an escalation on a dispute tells the disputes service through the
outbox, with ApplyEscalationAnswer as the disputes proto defines it (docs/contracts.md)."""

from __future__ import annotations

import asyncio
import time

import grpc

from common.clock import SystemClock
from settle.disputes.v1 import disputes_pb2, disputes_pb2_grpc
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request, start_escalation
from tests.support.rpc import as_actor

DISPUTE = "disputes/" + "c" * 32


class FakeDisputes(disputes_pb2_grpc.DisputesServiceServicer):
    """Only ApplyEscalationAnswer; refuses the first call to show the relay retries."""

    def __init__(self, refuse_first: int = 1):
        self.calls: list[tuple[disputes_pb2.ApplyEscalationAnswerRequest, dict]] = []
        self.refuse_first = refuse_first

    async def ApplyEscalationAnswer(self, request, context):
        self.calls.append((request, dict(context.invocation_metadata())))
        if len(self.calls) <= self.refuse_first:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "database restarting")
        return disputes_pb2.Dispute(name=request.dispute)


async def serve(fake: FakeDisputes):
    server = grpc.aio.server()
    disputes_pb2_grpc.add_DisputesServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


async def until(check, within: float = 10.0):
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_resolve_and_hand_back_reach_the_dispute_once_each(escalation_url):
    fake = FakeDisputes(refuse_first=1)
    server, address = await serve(fake)
    try:
        async with start_escalation(
            escalation_url, SystemClock(), workers=True, disputes=address
        ) as esc:
            e = await esc.stub.RaiseEscalation(raise_request(DISPUTE, team=pb.SALES))
            await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
            await esc.stub.RespondToEscalation(
                pb.RespondToEscalationRequest(
                    name=e.name,
                    outcome_code="PRICE_CONFIRMED",
                    note="Agreed in the QBR",
                    evidence_links=["https://crm.example/deal/42"],
                )
            )
            resolved = await esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name))
            back = await esc.stub.RaiseEscalation(raise_request(DISPUTE, team=pb.GBS))
            await esc.stub.HandBackEscalation(
                pb.HandBackEscalationRequest(name=back.name, outcome_code="NOT_OUR_AREA")
            )
            # Not a dispute: nobody to tell.
            other = await esc.stub.RaiseEscalation(
                raise_request("customers/" + "e" * 32, team=pb.LEGAL)
            )
            await esc.stub.HandBackEscalation(
                pb.HandBackEscalationRequest(name=other.name, outcome_code="NO_ACTION_NEEDED")
            )
            await until(lambda: len({c[0].request_id for c in fake.calls[1:]}) == 2)
            await asyncio.sleep(0.3)  # nothing else arrives
            history = await esc.stub.ListEscalationHistory(
                pb.ListEscalationHistoryRequest(parent=resolved.name)
            )
            event_id = history.entries[-1].details["notified_event_id"]
    finally:
        await server.stop(None)
    refused, *delivered = fake.calls
    assert len(delivered) == 2  # the refused one came again, then nothing twice
    answers = {c[0].kind: c for c in delivered}
    answer, metadata = answers["RESOLVED"]
    assert answer == disputes_pb2.ApplyEscalationAnswerRequest(
        dispute=DISPUTE,
        escalation=resolved.name,
        team="SALES",
        kind="RESOLVED",
        outcome_code="PRICE_CONFIRMED",
        note="Agreed in the QBR",
        evidence_links=["https://crm.example/deal/42"],
        answered_by="service:tests",
        request_id=event_id,
    )
    assert refused[0].request_id in {a.request_id for a, _ in delivered}
    assert metadata["x-settle-subject"] == "service:escalation"  # signed as the service
    assert answer.request_id == event_id != ""  # the event id's one carrier
    assert "x-event-id" not in metadata
    handed, _ = answers["HANDED_BACK"]
    assert handed.escalation == back.name and handed.team == "GBS"
    assert handed.outcome_code == "NOT_OUR_AREA"


async def test_the_answer_names_the_person_who_answered_not_the_one_who_closed(escalation_url):
    """Sam (Sales) answers, a team lead resolves without an outcome of their own: the case is told
    that Sam answered; the service signs the call as itself."""
    fake = FakeDisputes(refuse_first=0)
    server, address = await serve(fake)
    try:
        async with start_escalation(
            escalation_url, SystemClock(), workers=True, disputes=address
        ) as esc:
            e = await esc.stub.RaiseEscalation(raise_request(DISPUTE, team=pb.SALES))
            as_actor("user:sam", "sales", team="SALES")
            await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
            await esc.stub.RespondToEscalation(
                pb.RespondToEscalationRequest(name=e.name, outcome_code="PRICE_CONFIRMED")
            )
            as_actor("user:lea", "team_lead")
            resolved = await esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name))
            await until(lambda: len(fake.calls) == 1)
    finally:
        await server.stop(None)
    assert resolved.answered_by == "user:sam"
    ((answer, metadata),) = fake.calls
    assert (answer.kind, answer.answered_by) == ("RESOLVED", "user:sam")
    assert metadata["x-settle-subject"] == "service:escalation"
