"""Team isolation: a Sales, GBS or Legal user sees and works only the cases escalated to their
team (RecordEscalation from the escalation service, or `:escalate` naming the team); any other
case answers NOT_FOUND exactly like a missing one, and lists leave it out. Everyone else sees
every case. Real accounts and disputes servers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import grpc
from sqlalchemy import func, select

from common.actor import reset_actor
from services.disputes.data.models import DisputeTeamRow, HistoryRow
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s
from tests.support.rpc import as_actor, expect_error

C = grpc.StatusCode
MISSING = "disputes/" + "0" * 32


@contextmanager
def acting(subject: str, *roles: str, team: str = ""):
    token = as_actor(subject, *roles, team=team)
    try:
        yield
    finally:
        reset_actor(token)


def sales():
    return acting("user:sam", "sales", team="SALES")


async def _case(system, ref: str) -> pb.Dispute:
    c = await s.customer(system.accounts, ref)
    inv = await s.invoice(system.accounts, c.name, f"INV-{ref}")
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name), assignee="user:al"))
    )


def _record(
    case_name: str, team: str, request_id: str, escalation: str = "escalations/" + "e" * 32
):
    return pb.RecordEscalationRequest(
        dispute=case_name, escalation=escalation, team=team, request_id=request_id
    )


async def _names(system, filter: str = "") -> list[str]:
    reply = await system.disputes.ListDisputes(pb.ListDisputesRequest(filter=filter))
    return [d.name for d in reply.disputes]


async def _looks_missing(call, case_name: str) -> None:
    """NOT_FOUND, with the same message and reason as for a case that does not exist."""
    hidden = await expect_error(call(case_name), C.NOT_FOUND)
    missing = await expect_error(call(MISSING), C.NOT_FOUND)
    case_id, missing_id = case_name.removeprefix("disputes/"), MISSING.removeprefix("disputes/")
    assert hidden.details().replace(case_id, "ID") == missing.details().replace(missing_id, "ID")
    assert hidden.trailing_metadata() is not None and missing.trailing_metadata() is not None


async def test_a_team_sees_only_the_cases_escalated_to_it(system):
    mine, other = await _case(system, "C-1"), await _case(system, "C-2")
    await system.disputes.RecordEscalation(_record(mine.name, "SALES", "ev-1"))
    d = system.disputes
    with sales():
        assert (await d.GetDispute(pb.GetDisputeRequest(name=mine.name))).etag == mine.etag
        assert await _names(system) == [mine.name]
        assert await _names(system, "status=OPEN") == [mine.name]
        history = await d.ListDisputeHistory(pb.ListDisputeHistoryRequest(parent=mine.name))
        assert history.entries[-1].kind == "ESCALATION_RECORDED"
        # Every read and every action on the other case: as if it did not exist, checked before
        # anything else (a stale etag would otherwise say ABORTED).
        stale = "W/bogus"
        calls = [
            lambda n: d.GetDispute(pb.GetDisputeRequest(name=n)),
            lambda n: d.ListDisputeHistory(pb.ListDisputeHistoryRequest(parent=n)),
            lambda n: d.GetDisputeTrace(pb.GetDisputeTraceRequest(name=n)),
            lambda n: d.AddNote(pb.AddNoteRequest(parent=n, note=pb.Note(text="hi"))),
            lambda n: d.AddEvidence(
                pb.AddEvidenceRequest(parent=n, evidence=pb.Evidence(uri="https://x.example/1"))
            ),
            lambda n: d.UpdateDispute(
                pb.UpdateDisputeRequest(dispute=pb.Dispute(name=n, title="t", etag=stale))
            ),
            lambda n: d.StartDispute(pb.StartDisputeRequest(name=n, etag=stale)),
            lambda n: d.EscalateDispute(
                pb.EscalateDisputeRequest(name=n, etag=stale, reason_code="PRICING_AUTHORITY")
            ),
            lambda n: d.ResolveDispute(
                pb.ResolveDisputeRequest(
                    name=n, etag=stale, root_cause_code="BILLING_ERROR", outcome=pb.CREDITED
                )
            ),
            lambda n: d.WithdrawDispute(pb.WithdrawDisputeRequest(name=n, comment="gone")),
        ]
        for call in calls:
            await _looks_missing(call, other.name)
    with acting("user:gina", "gbs", team="GBS"):
        assert await _names(system) == []
        await _looks_missing(lambda n: d.GetDispute(pb.GetDisputeRequest(name=n)), mine.name)
    with acting("user:nobody", "legal", team=""):  # a team role without a team sees nothing
        assert await _names(system) == []
        await expect_error(d.GetDispute(pb.GetDisputeRequest(name=mine.name)), C.NOT_FOUND)
    for roles in (("collector",), ("sre",), ("sales", "team_lead")):
        with acting("user:x", *roles, team="SALES"):
            assert sorted(await _names(system)) == sorted([mine.name, other.name])
            await d.GetDispute(pb.GetDisputeRequest(name=other.name))
    # The other case was not touched by any of the refused calls.
    assert (await d.GetDispute(pb.GetDisputeRequest(name=other.name))).etag == other.etag


async def _rows(system, model, **where) -> list:
    async with system.assembly.ctx.db.transaction() as session:
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return list((await session.execute(stmt)).scalars())


async def test_record_escalation_delivered_twice_records_once_and_keeps_the_etag(system):
    case = await _case(system, "C-3")
    first = await system.disputes.RecordEscalation(_record(case.name, "SALES", "ev-1"))
    again = await system.disputes.RecordEscalation(_record(case.name, "SALES", "ev-1"))
    assert first == again and first.etag == case.etag  # a collector's pending edit still works
    assert first == pb.Dispute(name=case.name, etag=case.etag)  # all a relay needs back
    recorded = await _rows(system, HistoryRow, kind="ESCALATION_RECORDED")
    assert len(recorded) == 1 and recorded[0].actor == "service:tests"
    assert '"team": "SALES"' in recorded[0].details and '"granted": "true"' in recorded[0].details
    # Two later escalations to the same team delivered at the same moment: one team row,
    # each escalation in the history.
    await asyncio.gather(
        system.disputes.RecordEscalation(
            _record(case.name, "SALES", "ev-2", escalation="escalations/" + "f" * 32)
        ),
        system.disputes.RecordEscalation(
            _record(case.name, "SALES", "ev-3", escalation="escalations/" + "a" * 32)
        ),
    )
    (row,) = await _rows(system, DisputeTeamRow, dispute_id=case.name.removeprefix("disputes/"))
    assert (row.team, row.escalation) == ("SALES", "escalations/" + "e" * 32)
    assert len(await _rows(system, HistoryRow, kind="ESCALATION_RECORDED")) == 3
    started = await system.disputes.StartDispute(
        pb.StartDisputeRequest(name=case.name, etag=case.etag)
    )
    assert started.status == pb.Dispute.IN_PROGRESS


async def test_escalating_to_a_named_team_shows_the_case_to_it_at_once(system):
    case = await _case(system, "C-4")
    with acting("user:carl", "collector"):
        case = await system.disputes.EscalateDispute(
            pb.EscalateDisputeRequest(
                name=case.name, etag=case.etag, team="gbs", reason_code="BILLING_CORRECTION"
            )
        )
    with acting("user:gina", "gbs", team="GBS"):
        assert await _names(system) == [case.name]
        note = await system.disputes.AddNote(
            pb.AddNoteRequest(parent=case.name, note=pb.Note(text="invoice corrected"))
        )
        assert note.author == "user:gina"
    (row,) = await _rows(system, DisputeTeamRow)
    assert (row.team, row.escalation) == ("GBS", "")
    # The escalation service then reports the escalation it created: the team row learns its id.
    await system.disputes.RecordEscalation(_record(case.name, "GBS", "ev-9"))
    (row,) = await _rows(system, DisputeTeamRow)
    assert row.escalation == "escalations/" + "e" * 32
    with sales():
        assert await _names(system) == []


async def test_record_escalation_refusals(system):
    case = await _case(system, "C-5")
    d = system.disputes
    await expect_error(d.RecordEscalation(_record(MISSING, "SALES", "ev-1")), C.NOT_FOUND)
    await expect_error(
        d.RecordEscalation(_record(case.name, "MARKETING", "ev-2")),
        C.INVALID_ARGUMENT,
        field="team",
    )
    await expect_error(
        d.RecordEscalation(_record(case.name, "SALES", "ev-3", escalation="e/1")),
        C.INVALID_ARGUMENT,
        field="escalation",
    )
    await expect_error(
        d.RecordEscalation(_record(case.name, "SALES", "")), C.INVALID_ARGUMENT, field="request_id"
    )
    # Granting a team a case is for Settle's services, not for people (the gateway does not
    # expose the method either).
    with acting("user:carl", "collector"):
        await expect_error(
            d.RecordEscalation(_record(case.name, "SALES", "ev-4")),
            C.PERMISSION_DENIED,
            reason="SERVICE_ONLY",
        )
    async with system.assembly.ctx.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(DisputeTeamRow)) == 0
