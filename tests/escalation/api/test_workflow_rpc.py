"""The receiving team's work through gRPC: transitions, etags, wrong states, scoping, history."""

from __future__ import annotations

import grpc

from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request
from tests.support.rpc import as_actor, expect_error


async def raised(esc, **overrides) -> pb.Escalation:
    return await esc.stub.RaiseEscalation(raise_request(team=pb.SALES, **overrides))


async def test_full_path_claim_ask_provide_respond_resolve(esc):
    e = await raised(esc)
    as_actor("user:sam", "sales", team="SALES")
    e = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name, etag=e.etag))
    assert e.state == pb.CLAIMED and e.assignee == "user:sam"
    e = await esc.stub.RequestEscalationInfo(
        pb.RequestEscalationInfoRequest(name=e.name, etag=e.etag, question="Which contract?")
    )
    assert e.state == pb.INFO_REQUESTED and e.response_clock.status == pb.PAUSED
    assert not e.response_clock.HasField("due_time")
    as_actor("user:alice", "collector")
    e = await esc.stub.ProvideEscalationInfo(
        pb.ProvideEscalationInfoRequest(name=e.name, etag=e.etag, answer="Frame contract 2025")
    )
    assert e.state == pb.CLAIMED and e.response_clock.status == pb.RUNNING
    as_actor("user:sam", "sales", team="SALES")
    e = await esc.stub.RespondToEscalation(
        pb.RespondToEscalationRequest(
            name=e.name,
            etag=e.etag,
            outcome_code="PRICE_CONFIRMED",
            note="Price agreed in QBR",
            evidence_links=["https://crm.example/deal/42"],
        )
    )
    assert e.state == pb.RESPONDED and e.response_clock.status == pb.MET
    assert e.answered_by == "user:sam"
    e = await esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name, etag=e.etag))
    assert e.state == pb.RESOLVED and e.outcome_code == "PRICE_CONFIRMED"
    assert list(e.evidence_links) == ["https://crm.example/deal/42"]
    assert e.HasField("close_time")
    history = await esc.stub.ListEscalationHistory(pb.ListEscalationHistoryRequest(parent=e.name))
    assert [h.action for h in history.entries] == [
        "RAISED",
        "CLAIMED",
        "OLA_PAUSED",
        "INFO_REQUESTED",
        "OLA_RESUMED",
        "INFO_PROVIDED",
        "OLA_MET",
        "RESPONDED",
        "RESOLVED",
    ]
    assert [h.actor for h in history.entries][-2:] == ["user:sam", "user:sam"]
    assert history.entries[-1].from_state == pb.RESPONDED
    assert history.entries[-1].to_state == pb.RESOLVED


async def test_stale_etag_is_aborted_and_changes_nothing(esc):
    e = await raised(esc)
    claimed = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name, etag=e.etag))
    await expect_error(
        esc.stub.AssignEscalation(
            pb.AssignEscalationRequest(name=e.name, etag=e.etag, assignee="user:bob")
        ),
        grpc.StatusCode.ABORTED,
    )
    now = await esc.stub.GetEscalation(pb.GetEscalationRequest(name=e.name))
    assert now == claimed


async def test_wrong_states_are_failed_precondition_and_change_nothing(esc):
    e = await raised(esc)
    for call in (
        esc.stub.RespondToEscalation(pb.RespondToEscalationRequest(name=e.name, outcome_code="X")),
        esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name, outcome_code="X")),
        esc.stub.RequestEscalationInfo(pb.RequestEscalationInfoRequest(name=e.name, question="?")),
        esc.stub.ProvideEscalationInfo(pb.ProvideEscalationInfoRequest(name=e.name, answer="!")),
    ):
        error = await expect_error(call, grpc.StatusCode.FAILED_PRECONDITION, reason="WRONG_STATE")
        assert "OPEN" in error.details()
    closed = await esc.stub.HandBackEscalation(
        pb.HandBackEscalationRequest(name=e.name, outcome_code="NOT_OUR_AREA")
    )
    await expect_error(
        esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="WRONG_STATE",
    )
    assert await esc.stub.GetEscalation(pb.GetEscalationRequest(name=e.name)) == closed
    history = await esc.stub.ListEscalationHistory(pb.ListEscalationHistoryRequest(parent=e.name))
    assert [h.action for h in history.entries] == ["RAISED", "OLA_MET", "HANDED_BACK"]


async def test_bad_input_is_invalid_argument(esc):
    e = await raised(esc)
    await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
    await expect_error(
        esc.stub.RespondToEscalation(
            pb.RespondToEscalationRequest(
                name=e.name,
                outcome_code="",
                evidence_links=["javascript:alert(1)"],
                note="n" * 4001,
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("outcome_code", "evidence_links[0]", "note"),
    )
    await expect_error(
        esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="outcome_code",
    )
    await expect_error(
        esc.stub.AssignEscalation(pb.AssignEscalationRequest(name=e.name, assignee="bob")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="assignee",
    )
    await expect_error(
        esc.stub.GetEscalation(pb.GetEscalationRequest(name="escalations/../../etc")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="name",
    )
    await expect_error(
        esc.stub.GetEscalation(pb.GetEscalationRequest(name="escalations/" + "0" * 32)),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        esc.stub.ListEscalations(pb.ListEscalationsRequest(filter="colour=red")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="filter",
    )
    still = await esc.stub.GetEscalation(pb.GetEscalationRequest(name=e.name))
    assert still.state == pb.CLAIMED and still.outcome_code == ""


async def test_claim_twice_by_the_same_person_is_a_no_op_but_not_by_another(esc):
    e = await raised(esc)
    as_actor("user:sam", "sales", team="SALES")
    first = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
    again = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
    assert again == first
    as_actor("user:sue", "sales", team="SALES")
    await expect_error(
        esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


async def test_team_scope_for_pull_and_work(esc):
    sales = await raised(esc)
    gbs = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    as_actor("user:gina", "gbs", team="GBS")
    listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert [x.name for x in listed.escalations] == [gbs.name]
    await expect_error(
        esc.stub.GetEscalation(pb.GetEscalationRequest(name=sales.name)), grpc.StatusCode.NOT_FOUND
    )
    await expect_error(
        esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=sales.name)),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        esc.stub.ListEscalations(pb.ListEscalationsRequest(filter="team=SALES")),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    as_actor("user:alice", "collector")  # sees every queue, but does not work them
    listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert len(listed.escalations) == 2
    await expect_error(
        esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=sales.name)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    as_actor("user:lea", "team_lead")
    assigned = await esc.stub.AssignEscalation(
        pb.AssignEscalationRequest(name=sales.name, assignee="user:sam")
    )
    assert assigned.assignee == "user:sam" and assigned.state == pb.CLAIMED


async def test_queue_filters_and_order(esc):
    low = await raised(esc, severity=pb.LOW, subject="disputes/" + "1" * 32)
    esc.clock.advance(3600)
    high = await raised(esc, severity=pb.HIGH, subject="disputes/" + "2" * 32)
    await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=low.name))

    async def names(**kw):
        listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest(**kw))
        return [x.name for x in listed.escalations]

    assert await names(filter="severity>=MEDIUM") == [high.name]
    assert await names(filter="state=OPEN AND team=SALES") == [high.name]
    assert await names(order_by="severity desc") == [high.name, low.name]
    assert await names(order_by="due_time") == [low.name, high.name]
    due = high.response_clock.due_time.ToJsonString()
    assert await names(filter=f'due_time<"{due}"') == [low.name]
    assert await names(filter="age_days>=1") == []
    esc.clock.advance(2 * 86400)
    assert await names(filter="age_days>=2") == [low.name, high.name]
    first = await esc.stub.ListEscalations(pb.ListEscalationsRequest(page_size=1))
    assert len(first.escalations) == 1 and first.next_page_token
    rest = await esc.stub.ListEscalations(
        pb.ListEscalationsRequest(page_size=1, page_token=first.next_page_token)
    )
    assert [x.name for x in rest.escalations] == [high.name]
