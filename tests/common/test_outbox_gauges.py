"""The outbox backlog gauges by destination and method: an event parked after its last attempt
and one still pending show up as `settle.outbox.parked` and `settle.outbox.pending` with their
labels, the oldest pending event's age as `settle.outbox.oldest_age`; a discarded event is in
neither."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import update

from common import metrics as m
from common.clock import ManualClock
from common.db import Database
from common.outbox import MethodBacklog, Outbox, OutboxRelay, RelayPolicy
from services.accounts.data.models import OutboxEventRow
from settle.accounts.v1 import accounts_pb2 as pb

HOLD = "/settle.accounts.v1.AccountsService/PlaceHold"
RELEASE = "/settle.accounts.v1.AccountsService/ReleaseHold"


def gauges(reader) -> dict[str, dict[tuple[str, ...], float]]:
    """metric name -> {(destination, method): value} (method "" for per-destination gauges)."""
    out: dict[str, dict] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    key = (p.attributes["destination"], p.attributes.get("method", ""))
                    out.setdefault(metric.name, {})[key] = p.value
    return out


async def test_a_parked_and_a_pending_event_show_with_destination_and_method(
    backend, database_factory
):
    db = Database.from_url(database_factory.new_url(backend, "accounts"))
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    reader = InMemoryMetricReader()
    metrics = m.SettleMetrics(MeterProvider(metric_readers=[reader]).get_meter("settle"))
    outbox = Outbox(OutboxEventRow, clock)
    try:
        async with db.transaction() as session:
            outbox.add(session, destination="accounts", method=HOLD, request=pb.PlaceHoldRequest())
            discarded = outbox.add(
                session, destination="accounts", method=HOLD, request=pb.PlaceHoldRequest()
            )
        # No channel for "accounts": every attempt fails, and one attempt is all it gets.
        relay = OutboxRelay(db, OutboxEventRow, clock, {}, RelayPolicy(max_attempts=1),
                            metrics=metrics)  # fmt: skip
        assert await relay.relay_once() == 2
        async with db.transaction() as session:
            await session.execute(
                update(OutboxEventRow)
                .where(OutboxEventRow.id == discarded)
                .values(discarded_at=clock.now())
            )
        clock.advance(10)
        async with db.transaction() as session:
            outbox.add(session, destination="escalation", method=RELEASE,
                       request=pb.ReleaseHoldRequest())  # fmt: skip
        clock.advance(20)
        assert await relay.backlog_by_method() == [
            MethodBacklog("accounts", HOLD, pending=0, parked=1, oldest_pending_age_s=0.0),
            MethodBacklog("escalation", RELEASE, pending=1, parked=0, oldest_pending_age_s=20.0),
        ]
        relay.policy = RelayPolicy(poll_s=3600, backlog_every_s=3600)
        stop = asyncio.Event()
        worker = asyncio.create_task(relay.run(stop))
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(worker, 5)
    finally:
        await db.dispose()
    got = gauges(reader)
    assert got[m.OUTBOX_PARKED] == {("accounts", HOLD): 1}
    assert got[m.OUTBOX_PENDING] == {("escalation", RELEASE): 1}
    assert got[m.OUTBOX_OLDEST_AGE] == {("escalation", RELEASE): 20}
    assert got[m.OUTBOX_DEAD] == {("accounts", ""): 1, ("escalation", ""): 0}
