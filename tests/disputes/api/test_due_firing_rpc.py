"""A milestone already due when a command stops, pauses or re-targets its clock fires in that
command's transaction, with its true due time and lateness, before the clock changes: the
sweeper being late (an outage, a backlog) never loses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.disputes.data.models import MilestoneRow, OutboxEventRow
from services.disputes.outbound.escalation_messages import RaiseEscalationRequest
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s

MONDAY_17 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # the acknowledge clock's breach (1 day)


async def _case(system, **fields):
    c = await s.customer(system.accounts, "C-1")
    inv = await s.invoice(system.accounts, c.name, "INV-1")
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name), **fields))
    )


async def _history(system, case):
    reply = await system.disputes.ListDisputeHistory(pb.ListDisputeHistoryRequest(parent=case.name))
    return list(reply.entries)


def _fired(entries, clock: str) -> list[tuple[str, str]]:
    return [
        (e.details["threshold"], e.details["due_time"])
        for e in entries
        if e.kind in ("CLOCK_WARNED", "CLOCK_BREACHED") and e.details["clock"] == clock
    ]


async def _escalations(system) -> dict[str, RaiseEscalationRequest]:
    """Trigger (milestone id) -> the RaiseEscalation event in the outbox."""
    async with system.assembly.ctx.db.transaction() as session:
        payloads = await session.scalars(
            select(OutboxEventRow.payload).where(OutboxEventRow.destination == "escalation")
        )
        requests = [RaiseEscalationRequest.FromString(p) for p in payloads]
    return {r.trigger_event_id: r for r in requests}


async def _milestones(system, case) -> list[MilestoneRow]:
    async with system.assembly.ctx.db.transaction() as session:
        rows = await session.scalars(
            select(MilestoneRow).where(MilestoneRow.dispute_id == case.name.split("/")[1])
        )
        return list(rows)


async def test_a_breach_due_before_start_fires_in_the_start_then_the_clock_is_met(system):
    case = await _case(system, assignee="user:alice")  # OPEN, acknowledge due Monday 17:00
    system.clock.set(MONDAY_17 + timedelta(seconds=1.3))  # the sweeper did not run meanwhile
    await system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name))

    entries = await _history(system, case)
    assert _fired(entries, "ACKNOWLEDGE") == [
        ("WARNING_50", datetime(2026, 3, 2, 13, 0, tzinfo=UTC).isoformat()),
        ("WARNING_75", datetime(2026, 3, 2, 15, 0, tzinfo=UTC).isoformat()),
        ("BREACH", MONDAY_17.isoformat()),
    ]
    breach = next(e for e in entries if e.kind == "CLOCK_BREACHED")
    assert breach.details["lateness"] == "1.300s" and breach.actor == "rule:sla"
    kinds = [e.kind for e in entries]
    # fired as of the case before the start: before its status change and the clock's stop
    assert kinds.index("CLOCK_BREACHED") < kinds.index("STATUS_CHANGED") < kinds.index("CLOCK_MET")
    (met,) = [e for e in entries if e.kind == "CLOCK_MET"]
    assert met.details["clock"] == "ACKNOWLEDGE"

    fired = {m.name: m for m in await _milestones(system, case) if m.fired_at is not None}
    escalation = (await _escalations(system))[fired["BREACH"].id]
    assert (escalation.reason_code, escalation.raised_by) == ("SLA_BREACH", "rule:sla-breach")
    assert escalation.attributes["due_time"] == MONDAY_17.isoformat()

    case = await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))
    ack = next(c for c in case.clocks if c.kind == pb.ACKNOWLEDGE)
    # met, late: the clock stopped as MET; the fired breach says it was late
    assert ack.state == pb.SlaClock.MET and ack.breached and case.sla_state == pb.BREACHED
    assert await system.sweep() == 0  # nothing left for the sweeper: each fired once


async def test_warnings_due_before_a_withdraw_fire_then_the_clocks_are_cancelled(system):
    case = await _case(system)  # PRICING: resolve 5 business days, 50 % Wednesday 13:00
    system.clock.set(datetime(2026, 3, 4, 14, 0, tzinfo=UTC))
    await system.disputes.WithdrawDispute(
        pb.WithdrawDisputeRequest(name=case.name, comment="paid meanwhile")
    )

    entries = await _history(system, case)
    assert _fired(entries, "RESOLVE") == [
        ("WARNING_50", datetime(2026, 3, 4, 13, 0, tzinfo=UTC).isoformat())
    ]
    assert [t for t, _ in _fired(entries, "ACKNOWLEDGE")] == ["WARNING_50", "WARNING_75", "BREACH"]
    kinds = [e.kind for e in entries]
    assert kinds.index("CLOCK_WARNED") < kinds.index("CLOCK_CANCELLED")
    left = await _milestones(system, case)
    assert all(m.fired_at is not None for m in left)  # the future ones went with the clock
    assert await system.sweep() == 0


async def test_a_retarget_after_due_fires_the_due_milestones_first(system):
    case = await _case(system)
    system.clock.set(MONDAY_17 + timedelta(minutes=5))
    await system.disputes.UpdateDispute(
        pb.UpdateDisputeRequest(
            dispute=pb.Dispute(name=case.name, priority=pb.HIGH), update_mask="priority"
        )
    )
    entries = await _history(system, case)
    assert [t for t, _ in _fired(entries, "ACKNOWLEDGE")] == ["WARNING_50", "WARNING_75", "BREACH"]
    breach = next(e for e in entries if e.kind == "CLOCK_BREACHED")
    assert breach.details["lateness"] == "300s"
    kinds = [e.kind for e in entries]
    assert kinds.index("CLOCK_BREACHED") < kinds.index("UPDATED")
    assert await system.sweep() == 0


async def test_history_durations_are_protobuf_duration_json_a_negative_remaining_too(system):
    case = await _case(system, assignee="user:alice")
    # the acknowledge clock (8 business hours) is 1.256 ms over when the work starts on Tuesday
    system.clock.set(datetime(2026, 3, 3, 9, 0, 0, 1256, tzinfo=UTC))
    await system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name))
    entries = await _history(system, case)
    (met,) = [e for e in entries if e.kind == "CLOCK_MET"]
    assert (met.details["remaining"], met.details["spent"]) == ("-0.001256s", "28800.001256s")
    (started,) = [
        e for e in entries if e.kind == "CLOCK_STARTED" and e.details["clock"] == "RESOLVE"
    ]
    assert started.details["target"] == "144000s"  # 5 business days of 8 h
    breach = next(e for e in entries if e.kind == "CLOCK_BREACHED")
    assert breach.details["lateness"] == "57600.001256s"  # Monday 17:00 to Tuesday 09:00
