"""Sweeper throughput on PostgreSQL: N cases (6 milestones each) all overdue, drained by one or two
sweepers. Run: python -m bench.measure.disputes_sweeper [cases] [sweepers]"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from common.clock import ManualClock
from services.disputes.workers.sweeper import Sweeper
from tests.disputes.conftest import MONDAY_9
from tests.disputes.fleet import context, open_cases
from tests.disputes.workers.test_sweeper_concurrency import _drain
from tests.support.databases import DatabaseFactory


async def main(cases: int, sweepers: int) -> None:
    factory = DatabaseFactory(Path("/tmp"))
    factory.session_tag = uuid.uuid4().hex[:8]
    try:
        url = await asyncio.to_thread(factory.new_url, "postgres", "disputes")
        clock = ManualClock(MONDAY_9)
        writer = context(url, clock)
        started = time.perf_counter()
        await open_cases(writer, cases)
        made = time.perf_counter() - started
        clock.advance(timedelta(days=21))
        parts = [context(url, clock) for _ in range(sweepers)]
        started = time.perf_counter()
        fired = await asyncio.gather(*(_drain(Sweeper(c)) for c in parts))
        took = time.perf_counter() - started
        print(f"{cases} cases opened in {made:.2f}s ({cases / made:.0f}/s)")
        print(
            f"{sum(fired)} milestones fired by {sweepers} sweeper(s) {fired} in {took:.2f}s "
            f"= {sum(fired) / took:.0f} firings/s"
        )
        for c in (writer, *parts):
            await c.db.dispose()
    finally:
        await asyncio.to_thread(factory.cleanup)


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 200,
            int(sys.argv[2]) if len(sys.argv) > 2 else 1,
        )
    )
