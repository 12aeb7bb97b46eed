"""The outbox relay against a real consumer (the accounts service's PlaceHold): delivered once in
effect even when delivered twice, kept while the consumer is down, parked when it can never work,
shared by two relays on PostgreSQL without double delivery, and sent through a batch sender with
each event answered and traced on its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase

from common.clock import ManualClock
from common.db import Database
from common.db.outbox_model import OutboxEventMixin
from common.outbox import URGENT, LeasedEvent, Outbox, OutboxRelay, RelayPolicy
from common.rpc.client import open_channel
from common.rpc.server import ServiceProcess
from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import TEST_SECRET, running

PLACE_HOLD = "/settle.accounts.v1.AccountsService/PlaceHold"


class ProducerBase(DeclarativeBase):
    pass


class ProducerOutbox(OutboxEventMixin, ProducerBase):
    """A stand-in producer's outbox table (the real producers are disputes and escalation)."""


@pytest.fixture
async def producer(tmp_path, backend, database_factory):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}"
        if backend == "sqlite"
        else database_factory.empty_url("postgres")
    )
    db = Database.from_url(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(ProducerBase.metadata.create_all)
    yield db
    await db.dispose()


async def an_invoice(stub) -> str:
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="A"))
    )
    invoice = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="INV-9",
                invoice_date="2026-01-01",
                due_date="2026-01-31",
                amount=Money(currency_code="EUR", amount="100.00"),
            )
        )
    )
    return invoice.name


async def write_holds(db, clock, invoice: str, amounts: list[str], **add) -> list[str]:
    outbox = Outbox(ProducerOutbox, clock)
    async with db.transaction() as session:
        return [
            outbox.add(
                session,
                destination="accounts",
                method=PLACE_HOLD,
                subject=f"disputes/{i}",
                request=pb.PlaceHoldRequest(
                    invoice=invoice,
                    dispute=f"disputes/{i}",
                    amount=Money(currency_code="EUR", amount=a),
                ),
                **add,
            )
            for i, a in enumerate(amounts)
        ]


async def pending(db) -> int:
    async with db.transaction() as session:
        return await session.scalar(
            select(func.count())
            .select_from(ProducerOutbox)
            .where(ProducerOutbox.delivered_at.is_(None))
        )


async def test_events_are_delivered_and_applied_once(accounts, producer):
    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    await write_holds(producer, clock, invoice, ["10.00", "15.00"])
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    relay = OutboxRelay(producer, ProducerOutbox, clock, {"accounts": channel})
    assert await relay.relay_once() == 2
    assert await pending(producer) == 0
    # redeliver the same events: the consumer's idempotency keeps the effect single
    async with producer.transaction() as session:
        for row in (await session.execute(select(ProducerOutbox))).scalars():
            row.delivered_at, row.available_at = None, clock.now()
    assert await relay.relay_once() == 2
    got = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice))
    assert got.held_amount.amount == "25.00"
    await channel.close()


async def test_urgent_events_are_leased_before_older_normal_ones(accounts, producer):
    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    normal = []
    for amount in ("1.00", "2.00"):
        normal += await write_holds(producer, clock, invoice, [amount])
        clock.advance(timedelta(seconds=1))
    (urgent,) = await write_holds(producer, clock, invoice, ["3.00"], priority=URGENT)
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    relay = OutboxRelay(
        producer, ProducerOutbox, clock, {"accounts": channel}, RelayPolicy(batch=1)
    )
    order = []
    for _ in range(3):
        assert await relay.relay_once() == 1
        async with producer.transaction() as session:
            done = set(
                (
                    await session.execute(
                        select(ProducerOutbox.id).where(ProducerOutbox.delivered_at.is_not(None))
                    )
                ).scalars()
            )
        order += sorted(done - set(order))
    assert order == [urgent, *normal]  # the urgent one first, then the oldest
    await channel.close()


async def test_consumer_down_keeps_events_and_backs_off(accounts, producer):
    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    (event_id,) = await write_holds(producer, clock, invoice, ["10.00"])
    dead = open_channel("127.0.0.1:9", secret=TEST_SECRET, service="producer")  # nothing listens
    relay = OutboxRelay(
        producer,
        ProducerOutbox,
        clock,
        {"accounts": dead},
        RelayPolicy(deadline_s=0.5, base_backoff_s=2.0),
    )
    await relay.relay_once()
    async with producer.transaction() as session:
        row = await session.get(ProducerOutbox, event_id)
    assert row.delivered_at is None and row.attempts == 1 and "UNAVAILABLE" in row.last_error
    assert row.available_at > clock.now()  # not retried before its backoff
    assert await relay.relay_once() == 0
    await dead.close()
    clock.advance(timedelta(seconds=5))
    live = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    relay.channels = {"accounts": live}
    assert await relay.relay_once() == 1
    assert await pending(producer) == 0
    got = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice))
    assert got.held_amount.amount == "10.00"
    await live.close()


async def test_an_event_that_can_never_apply_is_parked_not_retried(accounts, producer):
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    (event_id,) = await write_holds(producer, clock, "invoices/not-an-id", ["1.00"])
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    relay = OutboxRelay(producer, ProducerOutbox, clock, {"accounts": channel})
    await relay.relay_once()
    async with producer.transaction() as session:
        row = await session.get(ProducerOutbox, event_id)
    assert row.dead_at is not None and row.last_error.startswith("INVALID_ARGUMENT")
    clock.advance(timedelta(hours=1))
    assert await relay.relay_once() == 0
    await channel.close()


async def test_delivery_continues_the_producers_trace(accounts, producer):
    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("open case") as span:
        await write_holds(producer, clock, invoice, ["1.00"])
        trace_id = span.get_span_context().trace_id
    async with producer.transaction() as session:
        row = (await session.execute(select(ProducerOutbox))).scalar_one()
    assert row.traceparent and row.traceparent.split("-")[1] == format(trace_id, "032x")
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_two_relays_share_the_work_without_double_delivery(
    postgres_backend, database_factory, tmp_path
):
    from services.accounts.server import assemble
    from settle.accounts.v1 import accounts_pb2_grpc
    from tests.accounts.conftest import accounts_settings
    from tests.support.rpc import channel as test_channel
    from tests.support.rpc import running

    url = database_factory.new_url(postgres_backend, "accounts")
    producer_db = Database.from_url(database_factory.empty_url("postgres"))
    async with producer_db.engine.begin() as conn:
        await conn.run_sync(ProducerBase.metadata.create_all)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    async with (
        running(assemble(accounts_settings(url), clock=clock).process) as address,
        test_channel(address) as ch,
    ):
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        invoice = await an_invoice(stub)
        await write_holds(producer_db, clock, invoice, ["0.01"] * 200)
        channels = [open_channel(address, secret=TEST_SECRET, service="p") for _ in range(2)]
        relays = [
            OutboxRelay(producer_db, ProducerOutbox, clock, {"accounts": c}, RelayPolicy(batch=20))
            for c in channels
        ]

        async def drain(relay):
            delivered = 0
            while n := await relay.relay_once():
                delivered += n
            return delivered

        counts = await asyncio.gather(*(drain(r) for r in relays))
        assert sum(counts) == 200  # every event leased once, whichever relay got it
        async with producer_db.transaction() as session:
            attempts = (await session.execute(select(ProducerOutbox.attempts))).scalars().all()
        assert set(attempts) == {1}
        got = await stub.GetInvoice(pb.GetInvoiceRequest(name=invoice))
        assert got.held_amount.amount == "2.00"
        for c in channels:
            await c.close()
    await producer_db.dispose()


async def test_an_event_still_failing_after_max_attempts_is_parked(accounts, producer):
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    (event_id,) = await write_holds(producer, clock, "invoices/" + "0" * 32, ["1.00"])  # NOT_FOUND
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    relay = OutboxRelay(
        producer,
        ProducerOutbox,
        clock,
        {"accounts": channel},
        RelayPolicy(max_attempts=3, max_backoff_s=1),
    )
    for _ in range(3):
        await relay.relay_once()
        clock.advance(timedelta(seconds=2))
    async with producer.transaction() as session:
        row = await session.get(ProducerOutbox, event_id)
    assert row.attempts == 3 and row.dead_at is not None and row.last_error.startswith("NOT_FOUND")
    assert await relay.relay_once() == 0
    await channel.close()


class HoldsBatch:
    """A BatchSender standing in for a consumer's batch method: records each call, then applies
    its events one by one through PlaceHold and answers each."""

    def __init__(self):
        self.calls: list[list[LeasedEvent]] = []

    async def __call__(self, channel, events, deadline_s):
        self.calls.append(list(events))
        answers = []
        for event in events:
            try:
                await channel.unary_unary(PLACE_HOLD)(event.payload, timeout=deadline_s)
                answers.append(None)
            except grpc.aio.AioRpcError as exc:
                answers.append(exc)
        return answers


async def test_a_batch_sender_gets_one_call_and_answers_each_event(accounts, producer):
    from opentelemetry.sdk.trace import TracerProvider

    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    tracer = TracerProvider().get_tracer("test")
    written: dict[str, str] = {}  # event id -> trace id of the action that wrote it
    for target, amount in ((invoice, "10.00"), ("invoices/not-an-id", "1.00"), (invoice, "15.00")):
        with tracer.start_as_current_span("open case") as span:
            (event_id,) = await write_holds(producer, clock, target, [amount])
            written[event_id] = format(span.get_span_context().trace_id, "032x")
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")
    sender = HoldsBatch()
    relay = OutboxRelay(
        producer, ProducerOutbox, clock, {"accounts": channel}, batch_senders={PLACE_HOLD: sender}
    )
    assert await relay.relay_once() == 3
    (call,) = sender.calls  # the three events in one call
    assert {e.id for e in call} == set(written)
    # each event travels with its own trace (its delivery span's), not the batch's
    assert {e.id: e.traceparent.split("-")[1] for e in call} == written
    bad = next(e.id for e in call if e.payload and b"not-an-id" in e.payload)
    async with producer.transaction() as session:
        rows = {r.id: r for r in (await session.execute(select(ProducerOutbox))).scalars()}
    assert rows[bad].dead_at is not None and rows[bad].last_error.startswith("INVALID_ARGUMENT")
    assert all(r.delivered_at is not None for i, r in rows.items() if i != bad)
    got = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice))
    assert got.held_amount.amount == "25.00"
    await channel.close()


async def test_a_batch_sender_that_raises_fails_every_event_for_retry(accounts, producer):
    invoice = await an_invoice(accounts.stub)
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    await write_holds(producer, clock, invoice, ["10.00", "15.00"])
    channel = open_channel(accounts.address, secret=TEST_SECRET, service="producer")

    async def broken(channel, events, deadline_s):
        raise RuntimeError("consumer's batch method crashed")

    relay = OutboxRelay(
        producer, ProducerOutbox, clock, {"accounts": channel}, batch_senders={PLACE_HOLD: broken}
    )
    assert await relay.relay_once() == 2
    async with producer.transaction() as session:
        rows = (await session.execute(select(ProducerOutbox))).scalars().all()
    assert all(r.delivered_at is None and r.dead_at is None for r in rows)
    assert all("RuntimeError" in r.last_error and r.available_at > clock.now() for r in rows)
    relay.batch_senders = {PLACE_HOLD: HoldsBatch()}
    clock.advance(timedelta(seconds=5))
    assert await relay.relay_once() == 2
    assert await pending(producer) == 0
    await channel.close()


async def test_a_large_lease_keeps_unary_calls_in_flight_bounded(producer):
    """Many events per pass, but at most `in_flight` unary calls at once: a consumer's pool is
    not flooded past its deadline (a batch sender would take them in one call instead)."""
    calls = {"now": 0, "most": 0, "done": 0}

    async def take(request: bytes, context) -> bytes:
        calls["now"] += 1
        calls["most"] = max(calls["most"], calls["now"])
        await asyncio.sleep(0.02)
        calls["now"] -= 1
        calls["done"] += 1
        return b""

    async def ready() -> bool:
        return True

    handler = grpc.method_handlers_generic_handler(
        "t.Consumer", {"Take": grpc.unary_unary_rpc_method_handler(take)}
    )
    consumer = ServiceProcess(
        name="consumer",
        listen_addr="127.0.0.1:0",
        internal_secret="unused",
        register=lambda server: server.add_generic_rpc_handlers((handler,)),
        service_names=("t.Consumer",),
        ready_check=ready,
        require_identity=False,
    )
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    outbox = Outbox(ProducerOutbox, clock)
    async with producer.transaction() as session:
        for i in range(30):
            outbox.add(
                session, destination="c", method="/t.Consumer/Take", request=Money(), subject=str(i)
            )
    async with running(consumer) as address:
        channel = grpc.aio.insecure_channel(address)
        relay = OutboxRelay(
            producer, ProducerOutbox, clock, {"c": channel}, RelayPolicy(batch=30, in_flight=4)
        )
        assert await relay.relay_once() == 30
        await channel.close()
    assert calls["done"] == 30 and calls["most"] == 4
    assert await pending(producer) == 0
