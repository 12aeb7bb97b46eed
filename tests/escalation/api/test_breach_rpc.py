"""A breach arriving for an escalation already open for its subject and team (raised by the
warning) visibly changes it: reason, update time, history, a watch event and a webhook."""

from __future__ import annotations

import asyncio
import json

from common.clock import SystemClock
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.api.test_watch_rpc import Stream, now_cursor
from tests.escalation.receiver import receiving
from tests.escalation.support import raise_request, start_escalation

CASE = "disputes/" + "b" * 32


def milestone(kind: str, event_id: str) -> pb.RaiseEscalationRequest:
    """What the disputes sweeper sends for a PRICING case (routed to Sales at the same severity
    whatever the milestone)."""
    return raise_request(
        CASE,
        reason_code=f"SLA_{kind}",
        raised_by=f"rule:sla-{kind.lower()}",
        trigger_event_id=event_id,
        request_id=event_id,
        attributes={"dispute_reason": "PRICING", "clock": "RESOLVE"},
    )


async def test_a_breach_on_an_open_escalation_changes_it_for_everyone_watching(escalation_url):
    async with (
        receiving() as rx,
        start_escalation(escalation_url, SystemClock(), workers=True) as esc,
    ):
        hook = await esc.stub.CreateSubscription(
            pb.CreateSubscriptionRequest(
                subscription=pb.Subscription(
                    team=pb.SALES, endpoint_uri=f"{rx.base}/healthy", secret="s" * 16
                )
            )
        )
        warned = await esc.stub.RaiseEscalation(milestone("WARNING", "evt-warning"))
        assert (warned.team, warned.reason_code) == (pb.SALES, "SLA_WARNING")
        watch = Stream(
            esc.stub.WatchEscalations(pb.WatchEscalationsRequest(cursor=await now_cursor(esc)))
        )
        await asyncio.sleep(0.05)  # the update time must be able to move
        breached = await esc.stub.RaiseEscalation(milestone("BREACH", "evt-breach"))
        assert breached.name == warned.name
        assert breached.reason_code == "SLA_BREACH"
        assert breached.severity >= warned.severity
        assert breached.update_time.ToDatetime() > warned.update_time.ToDatetime()
        assert breached.etag != warned.etag
        # Delivered again (the outbox is at least once): nothing changes a second time.
        again = await esc.stub.RaiseEscalation(milestone("BREACH", "evt-breach"))
        assert again == breached
        history = await esc.stub.ListEscalationHistory(
            pb.ListEscalationHistoryRequest(parent=warned.name)
        )
        assert [h.action for h in history.entries] == ["RAISED", "RAISED_AGAIN"]
        entry = history.entries[-1]
        assert entry.details["reason_code"] == "SLA_BREACH"
        assert entry.details["from_reason_code"] == "SLA_WARNING"
        assert entry.details["trigger_event_id"] == "evt-breach"
        (event,) = await watch.take(1)
        assert event.type == "escalation.raised_again"
        assert event.escalation.reason_code == "SLA_BREACH"
        assert event.escalation.etag == breached.etag
        await watch.nothing_more()
        watch.cancel()
        for _ in range(100):
            if len(rx.accepted("/healthy")) == 2:
                break
            await asyncio.sleep(0.05)
        bodies = [json.loads(h.body) for h in rx.accepted("/healthy")]
        assert [b["type"] for b in bodies] == ["escalation.raised", "escalation.raised_again"]
        assert bodies[-1]["escalation"]["reasonCode"] == "SLA_BREACH"
        listed = await esc.stub.ListDeliveries(pb.ListDeliveriesRequest(parent=hook.name))
        assert {d.event_type for d in listed.deliveries} == {
            "escalation.raised",
            "escalation.raised_again",
        }
