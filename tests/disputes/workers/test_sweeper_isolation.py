"""A firing that fails does not hold the others back: the pass is redone firing by firing (a
savepoint each), the bad one is left due for a later pass, the others commit with their history
rows and escalation events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from common.clock import ManualClock
from services.disputes.data.models import HistoryRow, MilestoneRow, OutboxEventRow
from services.disputes.service.sla_firing import FiringBatch
from services.disputes.workers.sweeper import Sweeper
from tests.disputes.conftest import MONDAY_9
from tests.disputes.fleet import context, open_cases


async def _count(ctx, *where) -> int:
    async with ctx.db.transaction() as session:
        return await session.scalar(select(func.count()).where(*where))


async def test_a_failing_firing_is_isolated_and_retried_later(
    backend, database_factory, monkeypatch
):
    clock = ManualClock(MONDAY_9)
    ctx = context(database_factory.new_url(backend, "disputes"), clock)
    try:
        good_a, bad, good_b = await open_cases(ctx, 3)
        clock.advance(timedelta(hours=8))  # the acknowledge clocks' warnings and breach are due
        fire = FiringBatch.fire

        def failing(self, milestone):
            if milestone.dispute_id == bad:
                raise RuntimeError("a bug in one firing")
            return fire(self, milestone)

        monkeypatch.setattr(FiringBatch, "fire", failing)
        result = await Sweeper(ctx).sweep_once()
        assert (result.fired, result.failed) == (6, 3)
        warned = HistoryRow.kind == "CLOCK_WARNED"
        assert await _count(ctx, warned) == 4
        assert await _count(ctx, warned, HistoryRow.dispute_id == bad) == 0
        assert await _count(ctx, OutboxEventRow.destination == "escalation") == 2  # the breaches
        unfired = MilestoneRow.fired_at.is_(None) & (MilestoneRow.due_at <= clock.now())
        assert await _count(ctx, unfired, MilestoneRow.dispute_id == bad) == 3

        monkeypatch.setattr(FiringBatch, "fire", fire)  # fixed: the next pass fires them, once
        assert (await Sweeper(ctx).sweep_once()).fired == 3
        assert await _count(ctx, warned) == 6
        assert await _count(ctx, OutboxEventRow.destination == "escalation") == 3
        assert {good_a, good_b} <= set(await _warned_cases(ctx))
    finally:
        await ctx.db.dispose()


async def _warned_cases(ctx) -> list[str]:
    async with ctx.db.transaction() as session:
        rows = await session.execute(
            select(HistoryRow.dispute_id).where(HistoryRow.kind == "CLOCK_WARNED")
        )
        return list(rows.scalars())
