"""Two sweepers (two engines, as two replicas) against one PostgreSQL database fire each due
milestone exactly once, with its history row and its escalation event."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from common.clock import ManualClock
from services.disputes.data.models import HistoryRow, MilestoneRow, OutboxEventRow
from services.disputes.outbound.escalation_messages import RaiseEscalationRequest
from services.disputes.workers.sweeper import Sweeper
from tests.disputes.conftest import MONDAY_9
from tests.disputes.fleet import context, open_cases

CASES = 40  # × 6 milestones (acknowledge and resolve: 50 %, 75 %, breach)


async def _drain(sweeper: Sweeper) -> int:
    fired = 0
    while True:
        result = await sweeper.sweep_once()
        fired += result.fired
        if not result.fired and not result.skipped:
            return fired
        await asyncio.sleep(0)


async def test_two_sweepers_fire_each_milestone_exactly_once(postgres_backend, database_factory):
    url = database_factory.new_url(postgres_backend, "disputes")
    clock = ManualClock(MONDAY_9)
    writer = context(url, clock)
    await open_cases(writer, CASES)
    clock.advance(timedelta(days=21))  # everything is overdue, as after an outage
    a, b = context(url, clock), context(url, clock)
    try:
        fired = await asyncio.gather(_drain(Sweeper(a, batch=25)), _drain(Sweeper(b, batch=25)))
        assert sum(fired) == CASES * 6
        assert min(fired) > 0, f"one sweeper did all the work: {fired}"
        async with writer.db.transaction() as session:
            unfired = await session.scalar(
                select(func.count()).where(MilestoneRow.fired_at.is_(None))
            )
            kinds = Counter((await session.execute(select(HistoryRow.kind))).scalars())
            payloads = (
                await session.execute(
                    select(OutboxEventRow.payload).where(OutboxEventRow.destination == "escalation")
                )
            ).scalars()
            triggers = Counter(
                RaiseEscalationRequest.FromString(p).trigger_event_id for p in payloads
            )
            milestone_ids = set((await session.execute(select(MilestoneRow.id))).scalars())
        assert unfired == 0
        assert kinds["CLOCK_WARNED"] == CASES * 4 and kinds["CLOCK_BREACHED"] == CASES * 2
        assert set(triggers) == milestone_ids and set(triggers.values()) == {1}
    finally:
        for ctx in (writer, a, b):
            await ctx.db.dispose()
