"""Measures delivery figures on this machine (not a test; run by hand):

    .venv/bin/python -m bench.measure.escalation_delivery [--postgres]

- RaiseEscalation → visible: the RPC's latency, then how long until a watcher receives the event
  and a List shows it.
- breach → escalation: an event committed to a producer's outbox (as the disputes sweeper does on
  an SLA breach) until the escalation is visible in the team's queue, with the relay running and
  woken on commit, as in production.
- webhook retries with the default policy (1 s base, doubling, jittered to 50–100 %).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace

from sqlalchemy.orm import DeclarativeBase

from common.clock import SystemClock
from common.db import Database
from common.db.outbox_model import OutboxEventMixin
from common.outbox import Outbox, OutboxRelay, RelayPolicy
from common.rpc.client import open_channel
from common.sla import calendar  # noqa: F401 - warm the holidays import before timing
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.api.test_watch_rpc import Stream
from tests.escalation.receiver import receiving
from tests.escalation.support import FAST, raise_request, start_escalation
from tests.support.databases import DatabaseFactory
from tests.support.rpc import TEST_SECRET

RAISE = "/settle.escalation.v1.EscalationService/RaiseEscalation"


class ProducerBase(DeclarativeBase):
    pass


class ProducerOutbox(OutboxEventMixin, ProducerBase):
    pass


def summary(name: str, values: list[float]) -> None:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"  {name:<34} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   "
        f"max {ms[-1]:7.1f} ms   (n={len(ms)})"
    )


async def raise_to_visible(esc, n: int) -> None:
    watch = Stream(esc.stub.WatchEscalations(pb.WatchEscalationsRequest(cursor="")))
    await asyncio.sleep(0.5)
    rpc, watched, listed = [], [], []
    for i in range(n):
        t0 = time.perf_counter()
        made = await esc.stub.RaiseEscalation(raise_request(f"disputes/{i:032x}", team=pb.GBS))
        rpc.append(time.perf_counter() - t0)
        (event,) = await watch.take(1)
        assert event.escalation.name == made.name
        watched.append(time.perf_counter() - t0)
        page = await esc.stub.ListEscalations(
            pb.ListEscalationsRequest(filter="team=GBS", order_by="create_time desc", page_size=1)
        )
        assert page.escalations[0].name == made.name
        listed.append(time.perf_counter() - t0)
    watch.cancel()
    summary("RaiseEscalation RPC", rpc)
    summary("raise → watch event received", watched)
    summary("raise → shown by ListEscalations", listed)


async def breach_to_escalation(esc, n: int, workdir: str) -> None:
    producer = Database.from_url(f"sqlite+aiosqlite:///{workdir}/producer.db")
    async with producer.engine.begin() as conn:
        await conn.run_sync(ProducerBase.metadata.create_all)
    clock = SystemClock()
    channel = open_channel(esc.address, secret=TEST_SECRET, service="disputes")
    relay = OutboxRelay(producer, ProducerOutbox, clock, {"escalation": channel}, RelayPolicy())
    stop = asyncio.Event()
    worker = asyncio.create_task(relay.run(stop))
    watch = Stream(esc.stub.WatchEscalations(pb.WatchEscalationsRequest(team=pb.TEAM_LEAD)))
    await asyncio.sleep(0.5)
    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        async with producer.transaction() as session:
            Outbox(ProducerOutbox, clock).add(
                session,
                destination="escalation",
                method=RAISE,
                request=pb.RaiseEscalationRequest(
                    subject=f"disputes/{i + 10_000:032x}",
                    reason_code="SLA_BREACH",
                    raised_by="rule:sla-breach",
                    attributes={"dispute_reason": "QTY_SHORT"},
                ),
            )
        relay.notify()  # what the producer does after its commit
        await watch.take(1)
        latencies.append(time.perf_counter() - t0)
    watch.cancel()
    stop.set()
    await worker
    await channel.close()
    await producer.dispose()
    summary("breach committed → in TEAM_LEAD queue", latencies)


async def webhook_retries(url: str) -> None:
    config = replace(
        FAST,
        dispatch=replace(
            FAST.dispatch,
            retry=replace(
                FAST.dispatch.retry,
                base=FAST.dispatch.retry.base * 10,
                ceiling=FAST.dispatch.retry.ceiling * 60,
            ),
            timeout_s=5.0,
        ),
    )
    async with (
        receiving(fail_first=3) as rx,
        start_escalation(url, SystemClock(), workers=True, config=config) as esc,
    ):
        await esc.stub.CreateSubscription(
            pb.CreateSubscriptionRequest(
                subscription=pb.Subscription(
                    team=pb.SALES,
                    endpoint_uri=f"{rx.base}/flaky",
                    secret="measure-secret-123",
                )
            )
        )
        t0 = time.perf_counter()
        await esc.stub.RaiseEscalation(raise_request(team=pb.SALES))
        while len(rx.accepted("/flaky")) < 1:  # noqa: ASYNC110 - the receiver has no event
            await asyncio.sleep(0.02)
        marks = [h.at for h in rx.on("/flaky")]
        print(
            "  webhook attempts (policy base 1 s):  "
            + ", ".join(f"#{i + 1} +{(m - marks[0]):.2f} s" for i, m in enumerate(marks))
            + f"   first attempt {(rx.on('/flaky')[0].at - t0) * 1000:.0f} ms after the raise"
        )


async def main(postgres: bool, n: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        factory = DatabaseFactory(__import__("pathlib").Path(workdir))
        try:
            for backend in ("sqlite", "postgres") if postgres else ("sqlite",):
                print(f"{backend}:")
                url = factory.new_url(backend, "escalation")
                async with start_escalation(
                    url,
                    SystemClock(),
                    workers=True,
                    config=replace(FAST, watch_poll_s=1.0, sweep_poll_s=1.0),
                ) as esc:
                    await raise_to_visible(esc, n)
                    await breach_to_escalation(esc, n, workdir)
                await webhook_retries(factory.new_url(backend, "escalation"))
        finally:
            factory.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.postgres, args.n))
