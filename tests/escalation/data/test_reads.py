"""Display reads return one record type each, from Core statements, never ORM rows."""

from __future__ import annotations

from common.listing import Page
from services.escalation.data import reads
from services.escalation.data.reads import (
    DeliveryRecord,
    EscalationRecord,
    EventRecord,
    HistoryRecord,
    SubscriptionRecord,
)
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import START, raise_request

PAGE = Page(0, 10)


async def test_each_read_returns_its_record_type(esc):
    made = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    hook = await esc.stub.CreateSubscription(
        pb.CreateSubscriptionRequest(
            subscription=pb.Subscription(
                team=pb.GBS, endpoint_uri="https://hooks.example/x", secret="s" * 16
            )
        )
    )
    await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=made.name))
    escalation_id = made.name.split("/")[1]
    subscription_id = hook.name.split("/")[1]
    async with esc.parts.ctx.db.reading() as session:
        one = await reads.escalation(session, escalation_id)
        listed = await reads.list_escalations(
            session, [], ("create_time", False), PAGE, None, START
        )
        history = await reads.history(session, escalation_id, PAGE)
        events = await reads.events_after(session, 0, "GBS", 10)
        subscriptions = await reads.list_subscriptions(session, "GBS", PAGE)
        deliveries = await reads.list_deliveries(session, subscription_id, [], PAGE)
        missing = await reads.escalation(session, "0" * 32)
    assert type(one) is EscalationRecord and listed == [one] and missing is None
    assert (one.state, one.version, one.clock.team) == ("CLAIMED", 2, "GBS")
    assert [type(h) for h in history] == [HistoryRecord] * 2
    assert [h.action for h in history] == ["RAISED", "CLAIMED"]
    assert [type(e) for e in events] == [EventRecord] * 2
    assert [type(s) for s in subscriptions] == [SubscriptionRecord]
    assert "secret" not in SubscriptionRecord._fields
    assert [(type(d), d.event_type) for d in deliveries] == [(DeliveryRecord, "escalation.claimed")]
