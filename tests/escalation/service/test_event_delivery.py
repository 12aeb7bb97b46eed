"""Events from other services arrive through their outbox: the escalation service being down
delays an SLA breach's escalation, never loses or doubles it."""

from __future__ import annotations

import asyncio
import socket

from sqlalchemy import select, update
from sqlalchemy.orm import DeclarativeBase

from common.clock import ManualClock
from common.db import Database
from common.db.outbox_model import OutboxEventMixin
from common.outbox import Outbox, OutboxRelay, RelayPolicy
from common.rpc.client import open_channel
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import START, start_escalation
from tests.support.rpc import TEST_SECRET

RAISE = "/settle.escalation.v1.EscalationService/RaiseEscalation"


class ProducerBase(DeclarativeBase):
    pass


class ProducerOutbox(OutboxEventMixin, ProducerBase):
    """A throwaway producer (standing in for disputes) with the shared outbox table."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_breach_raised_while_the_service_is_down_arrives_once_after_it_is_back(
    escalation_url, tmp_path
):
    producer = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/producer.db")
    async with producer.engine.begin() as conn:
        await conn.run_sync(ProducerBase.metadata.create_all)
    clock = ManualClock(START)
    address = f"127.0.0.1:{free_port()}"
    channel = open_channel(address, secret=TEST_SECRET, service="disputes")
    relay = OutboxRelay(producer, ProducerOutbox, clock, {"escalation": channel}, RelayPolicy())
    dispute = "disputes/" + "b" * 32
    async with producer.transaction() as session:
        event_id = Outbox(ProducerOutbox, clock).add(
            session,
            destination="escalation",
            method=RAISE,
            subject=dispute,
            request=pb.RaiseEscalationRequest(
                subject=dispute,
                reason_code="SLA_BREACH",
                raised_by="rule:sla-breach",
                trigger_event_id="clock-7:BREACH",
                summary="Resolve clock breached",
                attributes={"dispute_reason": "PO_MISMATCH", "clock": "RESOLVE"},
            ),
        )

    async def outbox_row():
        async with producer.transaction() as session:
            return await session.scalar(select(ProducerOutbox))

    try:
        assert await relay.relay_once() == 1  # nobody listens: the attempt fails
        row = await outbox_row()
        assert row.delivered_at is None and row.attempts == 1
        assert row.last_error.startswith("UNAVAILABLE")
        async with start_escalation(escalation_url, clock, listen=address) as esc:
            clock.advance(120)  # past the relay's backoff
            # gRPC reconnects with its own backoff after the refused connection.
            await asyncio.wait_for(channel.channel_ready(), 10)
            assert await relay.relay_once() == 1
            assert (await outbox_row()).delivered_at is not None
            # At-least-once: the same event delivered again (say the relay crashed before it
            # recorded the delivery) changes nothing.
            async with producer.transaction() as session:
                await session.execute(
                    update(ProducerOutbox).values(delivered_at=None, available_at=clock.now())
                )
            assert await relay.relay_once() == 1
            listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
            (escalation,) = listed.escalations
            assert escalation.subject == dispute and escalation.team == pb.GBS
            assert escalation.raised_by == "rule:sla-breach"
            assert escalation.trigger_event_id == "clock-7:BREACH"
            history = await esc.stub.ListEscalationHistory(
                pb.ListEscalationHistoryRequest(parent=escalation.name)
            )
            assert [h.action for h in history.entries] == ["RAISED"]
            assert history.entries[0].actor == "service:disputes"
            assert event_id  # the relay sent it as the request id: that is what deduplicated
    finally:
        await channel.close()
        await producer.dispose()
