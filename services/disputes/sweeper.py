"""Fires SLA milestones (warnings, breach) at their due time, exactly once, with any number of
replicas running it.

A pass claims due, unfired milestone rows with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite runs
one writer at a time), takes their case rows with SKIP LOCKED too (a user changing that case will
replace its milestones; we come back after), and fires them in the pass's transaction: each
milestone, its clock's fired flags, the case's SLA state, the history row and the escalation event
commit together or not at all. Between passes the worker sleeps until the earliest due time, at most
`max_sleep_s`, or until this process changes a case. Rows left due by a restart or an outage are
simply due: the first pass catches them up.

Telemetry (firings.py): each firing is its own trace linked to the case's origin, and is counted
once committed; a pass that fires is a `settle.sla.sweep` span holding its SQL; idle polls are not
traced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog
from opentelemetry.instrumentation.utils import suppress_instrumentation

from common import tracing
from common.sla import clock as sla
from services.disputes import events
from services.disputes import repository as repo
from services.disputes.firings import Firing, count, firing_span
from services.disputes.models import MilestoneRow
from services.disputes.service import history
from services.disputes.service.clocks import ClockDesk, counting, to_clock
from services.disputes.service.context import DisputesContext

log = structlog.get_logger("settle.disputes.sweeper")
ACTOR = "rule:sla"


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
        firings: list[Firing] = []
        async with self.ctx.db.transaction() as session:
            now = self.ctx.clock.now()
            with suppress_instrumentation():  # most passes find nothing: no trace for those
                due = await repo.claim_due(session, now, self.batch)
            if not due:
                return SweepResult(0, 0)
            with self.ctx.tracer.start_as_current_span(
                "settle.sla.sweep", attributes={"settle.sweep.due": len(due)}
            ) as span:
                result = await self._fire_due(session, due, now, isolate, firings)
                await session.flush()  # the firings' statements belong to this span
                span.set_attributes(
                    {"settle.sweep.fired": result.fired, "settle.sweep.skipped": result.skipped}
                )
        count(self.ctx.metrics, firings)  # committed: a failed pass is redone, never counted
        return result

    async def _fire_due(
        self, session, due: list[MilestoneRow], now: datetime, isolate: bool, firings: list
    ) -> SweepResult:
        fired = skipped = failed = 0
        cases = await repo.try_lock_disputes(session, {m.dispute_id for m in due})
        calendars = await self.ctx.calendars.load(
            session, {c.calendar_id for case in cases.values() for c in case.clocks}
        )
        teams = await repo.owning_teams(
            session, {c.root_cause_code for c in cases.values() if c.root_cause_code}
        )
        for milestone in due:
            case = cases.get(milestone.dispute_id)
            if case is None:
                skipped += 1
            elif not isolate:
                firings.append(self._fire(session, case, calendars, teams, milestone, now))
                fired += 1
            else:
                try:
                    async with session.begin_nested():
                        firing = self._fire(session, case, calendars, teams, milestone, now)
                    firings.append(firing)
                    fired += 1
                except Exception:
                    log.exception(
                        "milestone firing failed", milestone=milestone.id, case_id=case.id
                    )
                    failed += 1
        return SweepResult(fired, skipped, failed)

    def _fire(self, session, case, calendars, teams, milestone: MilestoneRow, now) -> Firing:
        row = next(r for r in case.clocks if r.id == milestone.clock_id)
        desk = ClockDesk(session, self.ctx.calendars, case, now, ACTOR)
        desk.calendars = calendars
        lateness_ms = int((now - milestone.due_at).total_seconds() * 1000)
        remaining = sla.remaining(
            to_clock(row), counting(row, calendars, self.ctx.calendars.always), now
        )
        milestone.fired_at = now
        row.fired = ",".join([*filter(None, row.fired.split(",")), milestone.name])
        firing = Firing(
            case_id=case.id,
            clock=row.kind,
            threshold=milestone.name,
            policy=row.policy_id,
            reason=case.reason_code,
            team=teams.get(case.root_cause_code, ""),
            target_s=row.target_us / 1e6,
            remaining_s=remaining.total_seconds(),
            started_at=row.started_at,
            fired_at=now,
            origin_traceparent=case.origin_traceparent,
        )
        details = {
            "clock": row.kind,
            "cycle": row.cycle,
            "threshold": milestone.name,
            "due_time": milestone.due_at.isoformat(),
            "fired_time": now.isoformat(),
            "lateness_ms": lateness_ms,
            "remaining": remaining,
            "policy": row.policy_id,
        }
        # Inside the span: the history row records its trace, the outbox event carries it.
        with firing_span(self.ctx.tracer, firing):
            tracing.annotate({"settle.sla.lateness_ms": lateness_ms})
            kind = "CLOCK_BREACHED" if firing.breach else "CLOCK_WARNED"
            history.record(session, case, kind, ACTOR, now, details=details)
            events.escalate(
                self.ctx.outbox,
                session,
                case,
                reason_code="SLA_BREACH" if firing.breach else "SLA_WARNING",
                summary=f"{row.kind.lower()} clock {milestone.name.lower()} on {case.title}",
                raised_by="rule:sla-breach" if firing.breach else "rule:sla-warning",
                trigger_event_id=milestone.id,
                clock=row.kind,
                threshold=milestone.name,
                due_time=milestone.due_at.isoformat(),
            )
            desk.refresh_case()
            log.info(
                "sla milestone fired",
                clock=row.kind,
                threshold=milestone.name,
                lateness_ms=lateness_ms,
            )
        return firing
