"""A sweeper behind its schedule fires due breaches ahead of older due warnings (a burst must not
keep a breach from its team's queue), each with whatever is due before it on its clock, in due
order; the rest of a batch is the oldest due, and everything fires exactly once. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from common.clock import ManualClock
from services.disputes.data import sweep
from services.disputes.data.models import HistoryRow, MilestoneRow
from services.disputes.workers.sweeper import Sweeper
from tests.disputes.conftest import MONDAY_9
from tests.disputes.fleet import context, open_cases

CASES = 6  # × 6 milestones: acknowledge and resolve clocks, each 50 %, 75 %, breach


async def test_breaches_are_claimed_before_older_warnings(backend, database_factory):
    clock = ManualClock(MONDAY_9)
    ctx = context(database_factory.new_url(backend, "disputes"), clock)
    try:
        await open_cases(ctx, CASES)
        clock.advance(timedelta(days=21))  # everything overdue: the oldest are warnings
        async with ctx.db.transaction() as session:
            oldest = (
                await session.execute(
                    select(MilestoneRow.name)
                    .order_by(MilestoneRow.due_at, MilestoneRow.id)
                    .limit(4)
                )
            ).scalars()
            assert "BREACH" not in set(oldest)  # a claim in due order would fire no breach
            claimed = await sweep.claim_due(session, clock.now(), 4)
        names = [m.name for m in claimed]
        assert names.count("BREACH") == 4
        by_clock: dict[str, list[str]] = {}
        for m in claimed:
            by_clock.setdefault(m.clock_id, []).append(m.name)
        # each breach with its clock's warnings, which fire first
        assert all(n == ["WARNING_50", "WARNING_75", "BREACH"] for n in by_clock.values())
        assert [(m.due_at, m.id) for m in claimed] == sorted((m.due_at, m.id) for m in claimed)

        sweeper = Sweeper(ctx, batch=4)
        first = await sweeper.sweep_once()
        assert first.fired == 12
        while (await sweeper.sweep_once()).fired:
            pass
        async with ctx.db.transaction() as session:
            unfired = (
                await session.execute(
                    select(MilestoneRow.id).where(MilestoneRow.fired_at.is_(None))
                )
            ).all()
            kinds = (
                (
                    await session.execute(
                        select(HistoryRow.kind).where(
                            HistoryRow.kind.in_(["CLOCK_WARNED", "CLOCK_BREACHED"])
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert unfired == [] and len(kinds) == CASES * 6
        assert kinds.count("CLOCK_BREACHED") == CASES * 2
    finally:
        await ctx.db.dispose()
