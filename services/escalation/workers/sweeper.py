"""The OLA sweeper: fires response-clock warnings and breaches when they fall due.

Due clocks are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work and never fire the
same milestone twice; each milestone is recorded, and its event published, in the transaction
that claimed it. The sweeper sleeps until the earliest due instant (at most `poll_s`), so a breach
fires within a poll of its due time, not on a batch schedule.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog
from opentelemetry import trace

from common.errors import DomainError
from common.tracing import ESCALATION_ID, annotate, breach_span, clock_event, linked_span
from common.workers import Wake, run_worker
from services.escalation.data import repository as repo
from services.escalation.service import clocks, journal, milestones
from services.escalation.service.context import EscalationContext, Touched

log = structlog.get_logger("settle.escalation.sweeper")
CLOCK, POLICY = "response", "ola"  # how OLA clocks show in SLA metrics and spans


class OlaSweeper:
    def __init__(
        self,
        ctx: EscalationContext,
        poll_s: float = 1.0,
        batch: int = 100,
        tracer: trace.Tracer | None = None,
    ):
        self.ctx = ctx
        self.tracer = tracer or trace.get_tracer("settle.escalation")
        self.poll_s = poll_s
        self.batch = batch
        self.wake = Wake()  # for AfterCommit.listen, with `wants`
        self._next_look: datetime | None = None  # while waiting: when it looks again by itself

    def wants(self, touched: Touched) -> bool:
        """Whether a change needs the sweeper before it looks again by itself: a clock due
        earlier than that (a new escalation's first warning is hours away)."""
        due = touched.clock_due
        return due is not None and (self._next_look is None or due < self._next_look)

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("OLA sweeper", self._pass, stop, self.wake, retry_s=self.poll_s)

    async def _pass(self) -> float:
        """Sweeps; then the seconds until the earliest due clock (at most poll_s), 0 when a full
        batch was claimed (more are due)."""
        self._next_look = None
        if await self.sweep_once() >= self.batch:
            return 0.0
        delay = await self._until_next_due()
        self._next_look = self.ctx.clock.now() + timedelta(seconds=delay)
        return delay

    async def _until_next_due(self) -> float:
        async with self.ctx.db.transaction() as session:
            due = await repo.earliest_due(session)
        if due is None:
            return self.poll_s
        return min(self.poll_s, max(0.0, (due - self.ctx.clock.now()).total_seconds()))

    async def sweep_once(self) -> int:
        """Fires everything due now; returns how many clocks it claimed."""
        ctx, now = self.ctx, self.ctx.clock.now()
        fired: list[tuple[str, journal.EscalationView]] = []
        async with ctx.db.transaction() as session:
            due = await repo.due_clocks(session, now, self.batch)
            for clock_row in due:
                row = await repo.get_escalation(session, clock_row.escalation_id)
                cal = await ctx.calendars.for_team(session, clock_row.team)
                try:
                    firing = milestones.fire_due(row, cal, now)
                except (DomainError, ValueError):  # an unreadable clock must not stop the others
                    log.exception("OLA clock unreadable", escalation_id=row.id)
                    clock_row.next_due_at = None
                    continue
                journal.add_history(session, firing.history)
                if not firing.events:  # e.g. the calendar changed: only the schedule moves
                    clocks.store(row, clocks.to_clock(clock_row), clocks.fired_of(clock_row), cal)
                view = await journal.view_of(session, ctx, row, now, cal)
                fired += [(t, view) for t in firing.events]
            touched = await journal.publish(session, ctx, fired, now)
        for event_type, view in fired:
            self._observe(event_type, view, now)
        if fired:
            ctx.signals.changed(touched)
        return len(due)

    def _observe(self, event_type: str, view: journal.EscalationView, now) -> None:
        """Metrics and a span per milestone; a breach's span links to the trace that raised the
        escalation (which, through the outbox, is the dispute's)."""
        row, team = view.row, view.row.team
        clock = dict(
            case_id=row.subject,
            clock=CLOCK,
            policy=POLICY,
            target_s=view.clock.target_minutes * 60,
            business_remaining_s=view.clock.remaining_minutes * 60,
        )
        breach = event_type == clocks.EVENT_OF_MILESTONE["BREACH"]
        self.ctx.metrics.sla_event(
            "breach" if breach else "warning",
            clock=CLOCK,
            reason=row.reason_code,
            team=team,
            policy=POLICY,
        )
        if breach:
            started = row.clock.started_at
            self.ctx.metrics.time_to_breach(
                (now - started).total_seconds(), clock=CLOCK, team=team, policy=POLICY
            )
            with breach_span(
                self.tracer,
                origin_traceparent=row.origin_traceparent,
                reason=row.reason_code,
                team=team,
                **clock,
            ):
                annotate({ESCALATION_ID: row.id})
                log.info("OLA breached", escalation_id=row.id, team=team)
            return
        with linked_span(self.tracer, "settle.sla.warning", links=[row.origin_traceparent]):
            annotate({ESCALATION_ID: row.id})
            clock_event("warned", **clock)
            log.info("OLA warning", escalation_id=row.id, team=team, kind=event_type)
