"""The outbox relay's telemetry on a real database and a real consumer: delivery outcomes counted,
backlog and delivery lag reported per destination, and each delivery traced in the trace of the
action that wrote the event, with failures marked by their status code only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from common import metrics as m
from common.clock import ManualClock
from common.db import Database
from common.metrics import SettleMetrics
from common.outbox import Backlog, Outbox, OutboxRelay, RelayPolicy
from common.rpc.server import ServiceProcess
from services.accounts.data.models import OutboxEventRow
from settle.accounts.v1 import accounts_pb2 as pb
from tests.observability.test_metrics_kit import points
from tests.support.rpc import channel, running

CONSUMER = "probe.v1.Consumer"
REQUEST = pb.GetCustomerRequest(name="customers/1")


async def _accept(request, context):
    return b""


async def _reject(request, context):
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "customer ana@acme.example unknown")


async def _busy(request, context):
    await context.abort(grpc.StatusCode.UNAVAILABLE, "try later")


def consumer() -> ServiceProcess:
    async def ready() -> bool:
        return True

    handlers = {
        name: grpc.unary_unary_rpc_method_handler(fn)
        for name, fn in (("Accept", _accept), ("Reject", _reject), ("Busy", _busy))
    }
    return ServiceProcess(
        name="consumer",
        listen_addr="127.0.0.1:0",
        internal_secret="unused",
        register=lambda s: s.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(CONSUMER, handlers),)
        ),
        service_names=(CONSUMER,),
        ready_check=ready,
        require_identity=False,
    )


async def test_relay_counts_outcomes_reports_backlog_and_traces_deliveries(
    backend, database_factory, session_telemetry, otlp
):
    db = Database.from_url(database_factory.new_url(backend, "accounts"))
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    reader = InMemoryMetricReader()
    metrics = SettleMetrics(MeterProvider(metric_readers=[reader]).get_meter("settle"))
    outbox = Outbox(OutboxEventRow, clock)
    tracer = session_telemetry.tracer("tests")
    with tracer.start_as_current_span("test: action that writes events") as action:
        async with db.transaction() as session:
            for method in ("Accept", "Reject", "Busy"):
                outbox.add(session, destination="consumer", method=f"/{CONSUMER}/{method}",
                           request=REQUEST, subject="disputes/d1")  # fmt: skip
            outbox.add(session, destination="nowhere", method=f"/{CONSUMER}/Accept",
                       request=REQUEST)  # fmt: skip
    clock.advance(30)
    try:
        async with running(consumer()) as address, channel(address) as ch:
            relay = OutboxRelay(db, OutboxEventRow, clock, {"consumer": ch}, metrics=metrics)
            assert await relay.backlog() == [
                Backlog("consumer", pending=3, dead=0, oldest_pending_age_s=30.0),
                Backlog("nowhere", pending=1, dead=0, oldest_pending_age_s=30.0),
            ]
            assert await relay.relay_once() == 4
            outcomes = {
                (a["destination"], a["outcome"]): v for a, v in points(reader)[m.OUTBOX_DELIVERIES]
            }
            assert outcomes == {
                ("consumer", "delivered"): 1,
                ("consumer", "dead"): 1,
                ("consumer", "retry"): 1,
                ("nowhere", "retry"): 1,
            }
            # The run loop reports the backlog gauges (here at once: backlog_every_s elapsed).
            relay.policy = RelayPolicy(poll_s=0.01, backlog_every_s=60)
            stop = asyncio.Event()
            worker = asyncio.create_task(relay.run(stop))
            await asyncio.sleep(0.2)
            stop.set()
            await asyncio.wait_for(worker, 5)
    finally:
        await db.dispose()
    got = points(reader)
    pending = {a["destination"]: v for a, v in got[m.OUTBOX_PENDING]}
    dead = {a["destination"]: v for a, v in got[m.OUTBOX_DEAD]}
    assert pending == {"consumer": 1, "nowhere": 1} and dead == {"consumer": 1, "nowhere": 0}
    assert {a["destination"]: v for a, v in got[m.OUTBOX_LAG]} == {"consumer": 30, "nowhere": 30}

    trace_id = f"{action.get_span_context().trace_id:032x}"
    session_telemetry.flush()
    # the action, 4 deliveries, 3 client calls and the consumer's 3 server spans
    spans = await otlp.until(lambda r: len(r.trace(trace_id)) >= 11 and r.trace(trace_id))
    assert len(spans) == 11, otlp.summary()
    delivers = {
        (s.name.removeprefix("outbox deliver "), s.attributes["messaging.destination.name"]): s
        for s in spans
        if s.name.startswith("outbox deliver")
    }
    assert {k: (s.status, s.status_message) for k, s in delivers.items()} == {
        ("Accept", "consumer"): ("unset", ""),
        ("Reject", "consumer"): ("error", "INVALID_ARGUMENT"),  # the code, never the details
        ("Busy", "consumer"): ("error", "UNAVAILABLE"),
        ("Accept", "nowhere"): ("error", "no channel for destination"),
    }
    by_id = {s.span_id: s for s in spans}
    for server in (s for s in spans if s.kind == "server"):
        client = by_id[server.parent_span_id]
        assert by_id[client.parent_span_id].name.startswith("outbox deliver")


async def test_an_idle_relay_and_health_probes_make_no_traces(
    backend, database_factory, session_telemetry, otlp
):
    """Polls twice a second and probes every few seconds must not flood the trace store."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    db = Database.from_url(database_factory.new_url(backend, "accounts"))
    session_telemetry.instrument_engine(db.engine)
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    try:
        async with running(consumer()) as address, channel(address) as ch:
            before = len(otlp.spans)
            relay = OutboxRelay(db, OutboxEventRow, clock, {"consumer": ch})
            assert await relay.relay_once() == 0
            await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
            with session_telemetry.tracer("tests").start_as_current_span("test: marker"):
                pass
            session_telemetry.flush()
            await otlp.until(lambda r: r.named("test: marker"))
            new = [s.name for s in otlp.spans[before:]]
            assert new == ["test: marker"], new
    finally:
        await db.dispose()
