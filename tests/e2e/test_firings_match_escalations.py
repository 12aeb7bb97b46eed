"""Firings and escalations matched one to one from outside: the disputes history entry of each
SLA firing carries the milestone id (`trigger_event_id`) that the escalation it raised records as
its trigger, with the real accounts, disputes and escalation services."""

from __future__ import annotations

from settle.disputes.v1 import disputes_pb2 as dpb
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.service.test_with_disputes import new_case, trio
from tests.escalation.support import START


async def test_each_escalating_firing_is_the_trigger_of_exactly_one_escalation_entry(
    backend, database_factory
):
    escalation_url = database_factory.new_url(backend, "escalation")
    async with trio(backend, database_factory, escalation_url) as t:
        case = await new_case(t, "QTY_SHORT", "C-1")
        resolve = next(c for c in case.clocks if c.kind == dpb.RESOLVE)
        t.clock.set(resolve.due_time.ToDatetime(tzinfo=START.tzinfo))
        await t.assembly.sweeper.sweep_once()  # both clocks' warnings and breaches
        while await t.disputes_relay():
            pass

        history = await t.disputes.ListDisputeHistory(
            dpb.ListDisputeHistoryRequest(parent=case.name)
        )
        firings = {
            e.details["trigger_event_id"]: e.details["threshold"]
            for e in history.entries
            if e.kind in ("CLOCK_WARNED", "CLOCK_BREACHED")
        }
        assert sorted(firings.values()) == ["BREACH"] * 2 + ["WARNING_50"] * 2 + ["WARNING_75"] * 2
        (escalation,) = (await t.esc.stub.ListEscalations(pb.ListEscalationsRequest())).escalations
        assert escalation.trigger_event_id in firings
        entries = await t.esc.stub.ListEscalationHistory(
            pb.ListEscalationHistoryRequest(parent=escalation.name)
        )
        triggers = [h.details["trigger_event_id"] for h in entries.entries]
        # one escalation entry per escalating firing (the breaches), each naming its firing
        assert sorted(triggers) == sorted(m for m, name in firings.items() if name == "BREACH")
