"""Two sweepers (two engines, as two replicas) against one PostgreSQL database fire each due
milestone exactly once, with its history row and its escalation event; so do a sweeper and
commands that stop clocks (a :withdraw fires its case's due milestones itself)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from common.clock import ManualClock
from services.disputes.data import sweep
from services.disputes.data.models import HistoryRow, MilestoneRow, OutboxEventRow
from services.disputes.domain.status import Action
from services.disputes.outbound.escalation_messages import RaiseEscalationRequest
from services.disputes.service.context import DisputesContext
from services.disputes.service.sla_firing import FiringBatch
from services.disputes.service.workflow import transition
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
            breach_ids = set(
                (
                    await session.execute(
                        select(MilestoneRow.id).where(MilestoneRow.name == "BREACH")
                    )
                ).scalars()
            )
        assert unfired == 0
        assert kinds["CLOCK_WARNED"] == CASES * 4 and kinds["CLOCK_BREACHED"] == CASES * 2
        # each breach escalated once (warnings do not escalate by default)
        assert set(triggers) == breach_ids and set(triggers.values()) == {1}
    finally:
        for ctx in (writer, a, b):
            await ctx.db.dispose()


ACKNOWLEDGE_DUE = timedelta(hours=8, seconds=1)  # past the acknowledge clock's breach, Monday 17:00


async def _fired_once(ctx: DisputesContext, cases: int) -> None:
    """Each case's three acknowledge milestones fired once, each escalation raised once, by one
    milestone; nothing due is left unfired."""
    async with ctx.db.transaction() as session:
        fired = dict(
            (await session.execute(
                select(MilestoneRow.id, MilestoneRow.name).where(MilestoneRow.fired_at.is_not(None))
            )).all()
        )  # fmt: skip
        due_unfired = await session.scalar(
            select(func.count()).where(
                MilestoneRow.fired_at.is_(None), MilestoneRow.due_at <= ctx.clock.now()
            )
        )
        kinds = Counter((await session.execute(select(HistoryRow.kind))).scalars())
        payloads = (
            await session.execute(
                select(OutboxEventRow.payload).where(OutboxEventRow.destination == "escalation")
            )
        ).scalars()
        triggers = Counter(RaiseEscalationRequest.FromString(p).trigger_event_id for p in payloads)
    assert due_unfired == 0 and len(fired) == cases * 3
    assert kinds["CLOCK_WARNED"] == cases * 2 and kinds["CLOCK_BREACHED"] == cases
    breaches = {m for m, name in fired.items() if name == "BREACH"}
    assert breaches <= set(triggers) <= set(fired) and set(triggers.values()) == {1}


async def test_a_withdraw_waits_for_a_sweeper_claim_then_fires_what_it_left(
    postgres_backend, database_factory
):
    url = database_factory.new_url(postgres_backend, "disputes")
    clock = ManualClock(MONDAY_9)
    ctx, sweeper = context(url, clock), context(url, clock)
    try:
        (case_id,) = await open_cases(ctx, 1)
        clock.advance(ACKNOWLEDGE_DUE)
        async with sweeper.db.transaction() as session:
            # a pass has claimed the due milestones and is about to find the case taken
            assert len(await sweep.claim_due(session, clock.now(), 10)) == 3
            withdraw = asyncio.create_task(transition(ctx, case_id, "", Action.WITHDRAW, "paid"))
            await asyncio.sleep(0.3)
            assert not withdraw.done()  # waiting for the claimed milestones, not skipping them
        await withdraw
        await _fired_once(ctx, 1)
        assert (await Sweeper(sweeper).sweep_once()).fired == 0
    finally:
        for c in (ctx, sweeper):
            await c.db.dispose()


async def test_a_withdraw_waiting_for_a_sweeper_firing_its_case_finds_them_fired(
    postgres_backend, database_factory
):
    url = database_factory.new_url(postgres_backend, "disputes")
    clock = ManualClock(MONDAY_9)
    ctx, sweeper = context(url, clock), context(url, clock)
    try:
        (case_id,) = await open_cases(ctx, 1)
        clock.advance(ACKNOWLEDGE_DUE)
        async with sweeper.db.transaction() as session:
            due = await sweep.claim_due(session, clock.now(), 10)
            batch = await FiringBatch.lock(sweeper, session, due, clock.now())
            await sweep.write(session, batch.fire_all(), clock.now())
            withdraw = asyncio.create_task(transition(ctx, case_id, "", Action.WITHDRAW, "paid"))
            await asyncio.sleep(0.3)
            assert not withdraw.done()  # the case is the sweeper's until it commits
        await withdraw
        await _fired_once(ctx, 1)
    finally:
        for c in (ctx, sweeper):
            await c.db.dispose()


async def test_a_sweeper_and_withdraws_racing_fire_each_milestone_once(
    postgres_backend, database_factory
):
    url = database_factory.new_url(postgres_backend, "disputes")
    clock = ManualClock(MONDAY_9)
    ctx, sweeper = context(url, clock), context(url, clock)
    try:
        case_ids = await open_cases(ctx, CASES)
        clock.advance(ACKNOWLEDGE_DUE)

        async def withdraw_all() -> None:
            for case_id in case_ids:
                await transition(ctx, case_id, "", Action.WITHDRAW, "paid")

        await asyncio.gather(_drain(Sweeper(sweeper, batch=5)), withdraw_all())
        await _fired_once(ctx, CASES)
    finally:
        for c in (ctx, sweeper):
            await c.db.dispose()
