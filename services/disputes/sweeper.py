"""Fires SLA milestones (warnings, breach) at their due time, exactly once, with any number of
replicas running it.

A pass claims due, unfired milestone rows with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite runs
one writer at a time), takes each one's case row with SKIP LOCKED too (a user changing that case
will replace its milestones; we come back after), and fires it inside a savepoint: the milestone,
the clock's fired flags, the case's SLA state, the history row and the escalation event commit
together or not at all. Between passes the worker sleeps until the earliest due time, at most
`max_sleep_s`, or until this process changes a case. Rows left due by a restart or an outage are
simply due: the first pass catches them up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog
from opentelemetry import metrics, propagate, trace

from common.sla import clock as sla
from services.disputes import events
from services.disputes import repository as repo
from services.disputes.models import ClockRow, MilestoneRow
from services.disputes.service import history
from services.disputes.service.clocks import ClockDesk, counting, to_clock
from services.disputes.service.context import DisputesContext

log = structlog.get_logger("settle.disputes.sweeper")
tracer = trace.get_tracer("settle.disputes.sweeper")
firings = metrics.get_meter("settle.disputes").create_counter(
    "settle.sla.firings", description="SLA warnings and breaches fired, by clock and threshold")
ACTOR = "rule:sla"


@dataclass(frozen=True)
class SweepResult:
    fired: int
    skipped: int  # due but locked by someone else this pass


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
        async with self.ctx.db.transaction() as session:
            due = await repo.next_due(session)
        if due is None:
            return self.max_sleep_s
        return max(0.0, min(self.max_sleep_s, (due - self.ctx.clock.now()).total_seconds()))

    async def sweep_once(self) -> SweepResult:
        fired = skipped = 0
        async with self.ctx.db.transaction() as session:
            now = self.ctx.clock.now()
            for milestone in await repo.claim_due(session, now, self.batch):
                try:
                    async with session.begin_nested():
                        done = await self._fire(session, milestone, now)
                except Exception:
                    log.exception("milestone firing failed", milestone=milestone.id,
                                  dispute_id=milestone.dispute_id)
                    done = False
                fired += done
                skipped += not done
        if fired:
            self.ctx.changed()
        return SweepResult(fired, skipped)

    async def _fire(self, session, milestone: MilestoneRow, now: datetime) -> bool:
        case = await repo.try_lock_dispute(session, milestone.dispute_id)
        if case is None:
            return False
        row = next(r for r in case.clocks if r.id == milestone.clock_id)
        desk = ClockDesk(session, self.ctx.calendars, case, now, ACTOR)
        await desk.load()
        lateness_ms = int((now - milestone.due_at).total_seconds() * 1000)
        remaining = sla.remaining(to_clock(row), counting(row, desk.calendars), now)
        milestone.fired_at = now
        row.fired = ",".join([*filter(None, row.fired.split(",")), milestone.name])
        breach = milestone.name == "BREACH"
        kind = "CLOCK_BREACHED" if breach else "CLOCK_WARNED"
        details = {"clock": row.kind, "cycle": row.cycle, "threshold": milestone.name,
                   "due_time": milestone.due_at.isoformat(), "fired_time": now.isoformat(),
                   "lateness_ms": lateness_ms, "remaining": remaining, "policy": row.policy_id}
        with self._span(case, row, milestone, remaining):
            history.record(session, case, kind, ACTOR, now, details=details)
            events.escalate(
                self.ctx.outbox, session, case,
                reason_code="SLA_BREACH" if breach else "SLA_WARNING",
                summary=f"{row.kind.lower()} clock {milestone.name.lower()} on {case.title}",
                raised_by="rule:sla-breach" if breach else "rule:sla-warning",
                trigger_event_id=milestone.id, clock=row.kind, threshold=milestone.name,
                due_time=milestone.due_at.isoformat(),
            )
            desk.refresh_case()
        firings.add(1, {"clock": row.kind, "threshold": milestone.name})
        log.info("sla milestone fired", dispute_id=case.id, clock=row.kind,
                 threshold=milestone.name, lateness_ms=lateness_ms)
        return True

    def _span(self, case, row: ClockRow, milestone: MilestoneRow, remaining):
        links = []
        if case.origin_traceparent:  # a breach links back to the trace that opened the case
            origin = trace.get_current_span(propagate.extract({"traceparent": case.origin_traceparent}))
            links.append(trace.Link(origin.get_span_context()))
        return tracer.start_as_current_span(
            f"sla {milestone.name.lower()}", links=links,
            attributes={"settle.dispute.id": case.id, "settle.sla.clock": row.kind,
                        "settle.sla.threshold": milestone.name,
                        "settle.sla.target_s": row.target_us / 1e6,
                        "settle.sla.remaining_s": remaining.total_seconds()},
        )
