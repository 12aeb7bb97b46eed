"""SRE's outbox API over gRPC against a real service (accounts, whose outbox points at a consumer
on a closed port and parks after one attempt): parked events are listed with their attempts and
last error; one retried once the consumer is up is delivered exactly once; one discarded stays
discarded and is never sent; only PARKED events can be acted on; a repeated call with the same
request id changes nothing; the action log names the caller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import grpc
import pytest

from common.clock import ManualClock
from common.outbox import RelayPolicy
from services.accounts.server import AccountsParts, assemble
from settle.accounts.v1 import accounts_pb2 as accounts_pb
from settle.accounts.v1 import outbox_pb2_grpc
from settle.common.v1 import outbox_pb2 as pb
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, expect_error, running
from tests.support.stack import free_port

CONSUMER = "/tests.Consumer/Accept"
EVENTS = "outboxes/accounts/events"
State = pb.OutboxEvent.State


class Consumer:
    """The outbox's destination: a plain gRPC server that records the event ids it receives."""

    def __init__(self, port: int):
        self.received: list[str] = []
        self.server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(self.accept)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("tests.Consumer", {"Accept": handler}),)
        )
        self.server.add_insecure_port(f"127.0.0.1:{port}")

    async def accept(self, payload: bytes, context) -> bytes:
        self.received.append(accounts_pb.PlaceHoldRequest.FromString(payload).request_id)
        return b""


@dataclass
class Harness:
    stub: outbox_pb2_grpc.AccountsOutboxServiceStub
    parts: AccountsParts
    consumer_port: int

    async def write_events(self, count: int) -> list[str]:
        """`count` events a second apart (oldest first)."""
        ctx, ids = self.parts.ctx, []
        for i in range(count):
            ctx.clock.advance(1)
            async with ctx.db.transaction() as session:
                request = accounts_pb.PlaceHoldRequest(dispute=f"disputes/{i}")
                ids.append(ctx.outbox.add(session, destination="consumer", method=CONSUMER,
                                          subject=f"disputes/{i}", request=request))  # fmt: skip
        self.parts.relay.notify()
        return ids

    async def list(self, filter_: str = "") -> list[pb.OutboxEvent]:
        reply = await self.stub.ListOutboxEvents(pb.ListOutboxEventsRequest(filter=filter_))
        return list(reply.events)

    async def until(self, filter_: str, count: int) -> list[pb.OutboxEvent]:
        for _ in range(200):
            events = await self.list(filter_)
            if len(events) >= count:
                return events
            await asyncio.sleep(0.025)
        raise AssertionError(f"never {count} events for {filter_!r}: {await self.list()}")


@pytest.fixture
async def outbox(backend, database_factory):
    port = free_port()
    settings = replace(
        accounts_settings(database_factory.new_url(backend, "accounts")),
        downstream={"consumer": f"127.0.0.1:{port}"},  # nothing listens there yet
    )
    parts = assemble(settings, clock=ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    parts.relay.policy = RelayPolicy(max_attempts=1, poll_s=0.05, deadline_s=1.0)
    token = as_actor("user:sam", "sre")
    try:
        async with running(parts.process) as address, channel(address) as ch:
            yield Harness(outbox_pb2_grpc.AccountsOutboxServiceStub(ch), parts, port)
    finally:
        token.var.reset(token)


async def test_parked_events_are_listed_retried_once_delivered_or_discarded_for_good(outbox):
    retried, discarded = await outbox.write_events(2)
    parked = await outbox.until("state=PARKED", 2)
    assert [e.name for e in parked] == [f"{EVENTS}/{retried}", f"{EVENTS}/{discarded}"]
    first = parked[0]
    assert (first.destination, first.method, first.subject) == ("consumer", CONSUMER, "disputes/0")
    assert first.state == State.PARKED and first.attempts == 1 and first.age.seconds == 1
    assert first.last_error.startswith("UNAVAILABLE")
    assert first.HasField("create_time") and first.HasField("park_time")
    assert not first.HasField("next_attempt_time")
    assert await outbox.list("state=PENDING") == []
    filtered = await outbox.list(f'destination=consumer AND method="{CONSUMER}"')
    assert len(filtered) == 2 and await outbox.list("destination=elsewhere") == []

    consumer = Consumer(outbox.consumer_port)
    await consumer.server.start()
    # The relay's channel reconnects by its own backoff; SRE retries once the consumer is up.
    await asyncio.wait_for(outbox.parts.relay.channels["consumer"].channel_ready(), 10)
    try:
        retry = pb.RetryOutboxEventRequest(
            name=f"{EVENTS}/{retried}", reason="consumer is back", request_id="retry-1"
        )
        answer = await outbox.stub.RetryOutboxEvent(retry)
        assert answer.state in (State.PENDING, State.DELIVERED) and answer.attempts <= 1
        (delivered,) = await outbox.until("state=DELIVERED", 1)
        assert delivered.name == f"{EVENTS}/{retried}" and delivered.HasField("deliver_time")
        # The same call again is answered, not applied; a new one finds nothing parked.
        again = await outbox.stub.RetryOutboxEvent(retry)
        assert again.state == State.DELIVERED
        await expect_error(
            outbox.stub.RetryOutboxEvent(pb.RetryOutboxEventRequest(name=retry.name)),
            grpc.StatusCode.FAILED_PRECONDITION,
            reason="OUTBOX_EVENT_NOT_PARKED",
        )

        discard = pb.DiscardOutboxEventRequest(
            name=f"{EVENTS}/{discarded}", reason="hold already placed by hand", request_id="d-1"
        )
        gone = await outbox.stub.DiscardOutboxEvent(discard)
        assert gone.state == State.DISCARDED and gone.HasField("discard_time")
        assert (await outbox.stub.DiscardOutboxEvent(discard)).state == State.DISCARDED
        await expect_error(
            outbox.stub.RetryOutboxEvent(pb.RetryOutboxEventRequest(name=discard.name)),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        outbox.parts.relay.notify()
        await asyncio.sleep(0.3)  # several relay passes
    finally:
        await consumer.server.stop(0)
    assert consumer.received == [retried]
    assert [e.name for e in await outbox.list("state=DISCARDED")] == [discard.name]
    assert await outbox.list("state=PARKED") == []

    log = await outbox.stub.ListOutboxActions(pb.ListOutboxActionsRequest())
    assert [(a.kind, a.event, a.actor, a.reason, a.request_id) for a in log.actions] == [
        (pb.OutboxAction.DISCARD, discard.name, "user:sam", discard.reason, "d-1"),
        (pb.OutboxAction.RETRY, retry.name, "user:sam", retry.reason, "retry-1"),
    ]
    assert all(a.name.startswith("outboxes/accounts/actions/") for a in log.actions)
    one = await outbox.stub.ListOutboxActions(
        pb.ListOutboxActionsRequest(filter=f'event="{retry.name}"')
    )
    assert [a.kind for a in one.actions] == [pb.OutboxAction.RETRY]


async def test_requests_are_validated(outbox):
    (event,) = await outbox.write_events(1)
    await outbox.until("state=PARKED", 1)
    name = f"{EVENTS}/{event}"
    await expect_error(
        outbox.stub.DiscardOutboxEvent(pb.DiscardOutboxEventRequest(name=name)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="reason",
    )
    await expect_error(
        outbox.stub.RetryOutboxEvent(pb.RetryOutboxEventRequest(name="outboxes/disputes/events/x")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="name",
    )
    await expect_error(
        outbox.stub.RetryOutboxEvent(pb.RetryOutboxEventRequest(name=f"{EVENTS}/{'0' * 32}")),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        outbox.stub.ListOutboxEvents(pb.ListOutboxEventsRequest(filter="state=LOST")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="filter",
    )
    # A request id names one action: reused for another, it is refused.
    await outbox.stub.DiscardOutboxEvent(
        pb.DiscardOutboxEventRequest(name=name, reason="duplicate", request_id="k")
    )
    await expect_error(
        outbox.stub.RetryOutboxEvent(pb.RetryOutboxEventRequest(name=name, request_id="k")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="request_id",
    )


async def test_lists_page_oldest_first(outbox):
    ids = await outbox.write_events(3)
    await outbox.until("state=PARKED", 3)
    first = await outbox.stub.ListOutboxEvents(pb.ListOutboxEventsRequest(page_size=2))
    rest = await outbox.stub.ListOutboxEvents(
        pb.ListOutboxEventsRequest(page_size=2, page_token=first.next_page_token)
    )
    names = [e.name for e in (*first.events, *rest.events)]
    assert names == [f"{EVENTS}/{i}" for i in ids] and rest.next_page_token == ""
