"""Fires SLA milestones (warnings, breach) at their due time, exactly once, with any number of
replicas running it.

A pass claims due, unfired milestone rows with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite runs
one writer at a time), takes their case rows with SKIP LOCKED too (a user changing that case will
replace its milestones; we come back after), and fires them in the pass's transaction: the
milestones, their clocks' fired flags, the cases' SLA state, the history rows and the escalation
events commit together or not at all. Set-based (sweep_sql.py): each firing's values are computed
in plain Python, then written with one statement per table for the whole batch. Breach events are
URGENT in the outbox: the relay sends them before any warning. Between passes the worker sleeps
until the earliest due time, at most `max_sleep_s`, or until this process changes a case. Rows left
due by a restart or an outage are simply due: the first pass catches them up.

Telemetry (firings.py): each firing is its own trace linked to the case's origin, and is counted
once committed; a pass that fires is a `settle.sla.sweep` span holding its SQL; idle polls are not
traced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.disputes.data import repository as repo
from services.disputes.data import sweep as sweep_sql
from services.disputes.service.firing_telemetry import count
from services.disputes.service.context import DisputesContext
from services.disputes.service.sla_firing import SweepBatch

log = structlog.get_logger("settle.disputes.sweeper")


@dataclass(frozen=True)
class SweepResult:
    fired: int
    skipped: int  # due but locked by someone else this pass
    failed: int = 0  # raised while firing (a bug): retried on later passes


class Sweeper:
    def __init__(self, ctx: DisputesContext, *, batch: int = 200, max_sleep_s: float = 1.0):
        self.ctx = ctx
        self.batch = batch
        self.max_sleep_s = max_sleep_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before looking, so a change during the pass is not missed
            try:
                result = await self.sweep_once()
                if result.failed:
                    delay = self.max_sleep_s
                else:
                    delay = 0.0 if result.fired else await self._delay(result.skipped)
            except Exception:  # the database is down, etc.: stay alive and try again
                log.exception("sweeper pass failed")
                delay = self.max_sleep_s
            if delay > 0:
                waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
                await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()

    async def _delay(self, skipped: int) -> float:
        if skipped:
            return min(0.05, self.max_sleep_s)  # someone holds a due case: look again soon
        with suppress_instrumentation():  # the idle poll: a trace per second would be noise
            async with self.ctx.db.transaction() as session:
                due = await repo.next_due(session)
        if due is None:
            return self.max_sleep_s
        return max(0.0, min(self.max_sleep_s, (due - self.ctx.clock.now()).total_seconds()))

    async def sweep_once(self) -> SweepResult:
        """One pass. Firings are flushed together (a savepoint each costs 3x the throughput);
        if any fails, the pass is rolled back and redone with a savepoint per firing, so one bad
        row cannot hold the others back."""
        try:
            result = await self._pass(isolate=False)
        except Exception:
            log.exception("sweeper batch failed; retrying it firing by firing")
            result = await self._pass(isolate=True)
        if result.fired:
            self.ctx.changed()
        return result

    async def _pass(self, *, isolate: bool) -> SweepResult:
        async with self.ctx.db.transaction() as session:
            now = self.ctx.clock.now()
            with suppress_instrumentation():  # most passes find nothing: no trace for those
                due = await repo.claim_due(session, now, self.batch)
            if not due:
                return SweepResult(0, 0)
            with self.ctx.tracer.start_as_current_span(
                "settle.sla.sweep", attributes={"settle.sweep.due": len(due)}
            ) as span:
                batch = await SweepBatch.lock(self.ctx, session, due, now)
                result = await (
                    self._isolated(session, batch) if isolate else self._all(session, batch)
                )
                span.set_attributes(
                    {"settle.sweep.fired": result.fired, "settle.sweep.skipped": result.skipped}
                )
        count(self.ctx.metrics, batch.firings)  # committed: a failed pass is redone, never counted
        return result

    async def _all(self, session, batch: SweepBatch) -> SweepResult:
        writes = sweep_sql.Writes()
        for milestone in batch.firable:
            fired = batch.fire(milestone)
            batch.keep(fired)
            writes.merge(fired.writes)
        await sweep_sql.write(session, writes, batch.now)
        return SweepResult(len(batch.firable), batch.skipped)

    async def _isolated(self, session, batch: SweepBatch) -> SweepResult:
        """A savepoint per firing, so one bad row cannot hold the others back."""
        fired = failed = 0
        for milestone in batch.firable:
            try:
                fired_one = batch.fire(milestone)
                async with session.begin_nested():
                    await sweep_sql.write(session, fired_one.writes, batch.now)
            except Exception:
                log.exception(
                    "milestone firing failed", milestone=milestone.id, case_id=milestone.dispute_id
                )
                failed += 1
                continue
            batch.keep(fired_one)
            fired += 1
        return SweepResult(fired, batch.skipped, failed)
