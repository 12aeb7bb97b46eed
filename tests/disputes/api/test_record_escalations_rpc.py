"""RecordEscalations: many reported escalations in one call and one transaction, each answered on
its own and each exactly what RecordEscalation would have done (idempotent by its request id, one
team row per case and team, the case's etag unchanged), its history entry in the trace the item
came with. Real accounts and disputes servers, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from sqlalchemy import select

from common.actor import reset_actor
from gateway.access import ACCESS, INTERNAL
from services.disputes.data.models import DisputeTeamRow, HistoryRow
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s
from tests.support.rpc import as_actor, expect_error

C = grpc.StatusCode
MISSING = "disputes/" + "0" * 32
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def esc(n: int) -> str:
    return f"escalations/{n:032x}"


def record(case: str, team: str, request_id: str, escalation: str = esc(1), traceparent: str = ""):
    return pb.RecordEscalationsRequest.Item(
        request=pb.RecordEscalationRequest(
            dispute=case, escalation=escalation, team=team, request_id=request_id
        ),
        traceparent=traceparent,
    )


async def _case(system, ref: str) -> pb.Dispute:
    c = await s.customer(system.accounts, ref)
    inv = await s.invoice(system.accounts, c.name, f"INV-{ref}")
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name), assignee="user:al"))
    )


async def _rows(system, model) -> list:
    async with system.assembly.ctx.db.transaction() as session:
        return list((await session.execute(select(model))).scalars())


async def _recorded(system) -> list[HistoryRow]:
    return [r for r in await _rows(system, HistoryRow) if r.kind == "ESCALATION_RECORDED"]


def _teams(rows: list[DisputeTeamRow]) -> set[tuple[str, str, str]]:
    return {(f"disputes/{r.dispute_id}", r.team, r.escalation) for r in rows}


def _answers(reply: pb.RecordEscalationsResponse) -> list:
    return [
        r.dispute if r.WhichOneof("result") == "dispute" else r.error.code for r in reply.results
    ]


async def test_each_item_is_recorded_and_answered_alone_in_order(system):
    a, b = await _case(system, "C-1"), await _case(system, "C-2")
    items = [
        record(a.name, "SALES", "ev-1", esc(1), TRACEPARENT),
        record(a.name, "LEGAL", "ev-2", esc(2)),
        record(b.name, "sales", "ev-3", esc(3), "00-bogus"),  # any case; no valid trace: the call's
        record(a.name, "SALES", "ev-4", esc(4)),  # a later escalation, same team: no new row
        record(MISSING, "SALES", "ev-5"),
        record(b.name, "MARKETING", "ev-6"),  # invalid: its own answer
        record(b.name, "GBS", "", esc(7)),  # no event id: invalid
    ]
    reply = await system.disputes.RecordEscalations(pb.RecordEscalationsRequest(items=items))
    handle_a, handle_b = pb.Dispute(name=a.name, etag=a.etag), pb.Dispute(name=b.name, etag=b.etag)
    assert _answers(reply) == [
        handle_a, handle_a, handle_b, handle_a,
        C.NOT_FOUND.value[0], C.INVALID_ARGUMENT.value[0], C.INVALID_ARGUMENT.value[0],
    ]  # fmt: skip
    violations = error_details_pb2.BadRequest()
    assert any(d.Unpack(violations) for d in reply.results[5].error.details)
    assert [v.field for v in violations.field_violations] == ["team"]
    assert _teams(await _rows(system, DisputeTeamRow)) == {
        (a.name, "SALES", esc(1)),
        (a.name, "LEGAL", esc(2)),
        (b.name, "SALES", esc(3)),
    }
    recorded = await _recorded(system)
    granted = sorted((f"disputes/{r.dispute_id}", r.details) for r in recorded)
    assert len(granted) == 4
    assert [('"granted": "false"' in d) for c, d in granted if esc(4) in d] == [True]
    assert {r.actor for r in recorded} == {"service:tests"}
    (first,) = [r for r in recorded if esc(1) in r.details]
    assert first.traceparent == TRACEPARENT  # in the breach's trace, through its delivery span
    assert all(r.traceparent != TRACEPARENT for r in recorded if r is not first)
    assert "00-bogus" not in {r.traceparent for r in recorded}
    # The cases' etags are untouched: a collector's pending action still applies.
    started = await system.disputes.StartDispute(pb.StartDisputeRequest(name=a.name, etag=a.etag))
    assert started.status == pb.Dispute.IN_PROGRESS


async def test_a_batch_sent_again_records_nothing_twice(system):
    a, b = await _case(system, "C-3"), await _case(system, "C-4")
    items = [
        record(a.name, "SALES", "ev-1", esc(1)),
        record(b.name, "GBS", "ev-2", esc(2)),
        record(MISSING, "GBS", "ev-3"),
    ]
    call = system.disputes.RecordEscalations(pb.RecordEscalationsRequest(items=items))
    first = await call
    assert "settle-replayed" not in dict(await call.trailing_metadata())
    # The relay lost the answer and sends the same events again, with one new: the old ones are
    # answered from the store (and say so), the missing case is still missing.
    again_items = [*items, record(a.name, "LEGAL", "ev-4", esc(4))]
    call = system.disputes.RecordEscalations(pb.RecordEscalationsRequest(items=again_items))
    again = await call
    assert _answers(again)[:3] == _answers(first)
    assert dict(await call.trailing_metadata())["settle-replayed-items"] == "0,1"
    assert len(await _recorded(system)) == 3
    assert len(await _rows(system, DisputeTeamRow)) == 3
    # The same event id twice in one call: the second is the first's answer; the same id for other
    # content is refused, alone.
    twins = [
        record(b.name, "LEGAL", "ev-5", esc(5)),
        record(b.name, "LEGAL", "ev-5", esc(5)),
        record(b.name, "SALES", "ev-5", esc(6)),
        record(b.name, "SALES", "ev-1", esc(1)),  # ev-1 was a.name's
    ]
    call = system.disputes.RecordEscalations(pb.RecordEscalationsRequest(items=twins))
    reply = await call
    assert dict(await call.trailing_metadata())["settle-replayed-items"] == "1"  # not the refused
    assert _answers(reply) == [
        pb.Dispute(name=b.name, etag=b.etag),
        pb.Dispute(name=b.name, etag=b.etag),
        C.INVALID_ARGUMENT.value[0],
        C.INVALID_ARGUMENT.value[0],
    ]
    assert len(await _recorded(system)) == 4
    # RecordEscalation, a batch of one, answers the same for the same event id.
    single = await system.disputes.RecordEscalation(items[0].request)
    assert single == first.results[0].dispute


async def test_a_team_granted_by_escalate_learns_its_escalation(system):
    case = await _case(system, "C-5")
    with_team = await system.disputes.EscalateDispute(
        pb.EscalateDisputeRequest(
            name=case.name, etag=case.etag, team="GBS", reason_code="BILLING_CORRECTION"
        )
    )
    reply = await system.disputes.RecordEscalations(
        pb.RecordEscalationsRequest(
            items=[
                record(case.name, "GBS", "ev-1", esc(1)),
                record(case.name, "GBS", "ev-2", esc(2)),
            ]
        )
    )
    assert [r.dispute.etag for r in reply.results] == [with_team.etag] * 2
    assert _teams(await _rows(system, DisputeTeamRow)) == {(case.name, "GBS", esc(1))}
    assert [('"granted": "false"' in r.details) for r in await _recorded(system)] == [True, True]


async def test_the_batch_is_bounded_and_for_services_only(system):
    case = await _case(system, "C-6")
    d = system.disputes
    await expect_error(d.RecordEscalations(pb.RecordEscalationsRequest()), C.INVALID_ARGUMENT,
                       field="items")  # fmt: skip
    too_many = [record(case.name, "SALES", f"ev-{i}") for i in range(501)]
    await expect_error(
        d.RecordEscalations(pb.RecordEscalationsRequest(items=too_many)),
        C.INVALID_ARGUMENT,
        field="items",
    )
    person = as_actor("user:carl", "collector")
    try:
        await expect_error(
            d.RecordEscalations(
                pb.RecordEscalationsRequest(items=[record(case.name, "SALES", "ev-1")])
            ),
            C.PERMISSION_DENIED,
            reason="SERVICE_ONLY",
        )
    finally:
        reset_actor(person)
    assert not await _rows(system, DisputeTeamRow)
    assert ACCESS["settle.disputes.v1.DisputesService/RecordEscalations"] == INTERNAL
