"""The OLA sweeper: fires response-clock warnings and breaches when they fall due.

Due clocks are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work and never fire the
same milestone twice; each milestone is recorded, and its event published, in the transaction
that claimed it. The sweeper sleeps until the earliest due instant (at most `poll_s`), so a breach
fires within a poll of its due time, not on a batch schedule.
"""

from __future__ import annotations

import asyncio

import structlog
from opentelemetry import metrics, trace

from common.errors import DomainError
from services.escalation import repository as repo
from services.escalation.service import clocks, journal, milestones
from services.escalation.service.context import EscalationContext

log = structlog.get_logger("settle.escalation.sweeper")
tracer = trace.get_tracer("settle.escalation")
_fired_counter = metrics.get_meter("settle.escalation").create_counter(
    "settle.escalation.ola_events", description="OLA warnings and breaches fired, by team"
)


class OlaSweeper:
    def __init__(self, ctx: EscalationContext, poll_s: float = 1.0, batch: int = 100):
        self.ctx = ctx
        self.poll_s = poll_s
        self.batch = batch
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                claimed = await self.sweep_once()
                if claimed >= self.batch:
                    continue  # more are due
                delay = await self._until_next_due()
            except Exception:  # database down: keep the worker alive and try again
                log.exception("OLA sweep failed")
                delay = self.poll_s
            waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

    async def _until_next_due(self) -> float:
        async with self.ctx.db.transaction() as session:
            due = await repo.earliest_due(session)
        if due is None:
            return self.poll_s
        return min(self.poll_s, max(0.0, (due - self.ctx.clock.now()).total_seconds()))

    async def sweep_once(self) -> int:
        """Fires everything due now; returns how many clocks it claimed."""
        ctx, now = self.ctx, self.ctx.clock.now()
        fired: list[tuple[str, str, journal.EscalationView]] = []
        async with ctx.db.transaction() as session:
            due = await repo.due_clocks(session, now, self.batch)
            for clock_row in due:
                row = await repo.get_escalation(session, clock_row.escalation_id)
                cal = await ctx.calendars.for_team(session, clock_row.team)
                try:
                    types = milestones.fire_due(session, row, cal, now)
                except DomainError:  # a clock that cannot be read must not stop the others
                    log.exception("OLA clock unreadable", escalation_id=row.id)
                    clock_row.next_due_at = None
                    continue
                if not types:  # e.g. the calendar changed: only the schedule moves
                    clocks.store(row, clocks.to_clock(clock_row), clocks.fired_of(clock_row), cal)
                view = await journal.view_of(session, ctx, row, now, cal)
                fired += [(t, row.team, view) for t in types]
            await journal.publish(session, ctx, [(t, v) for t, _, v in fired], now)
        for event_type, team, view in fired:
            _fired_counter.add(1, {"team": team, "event": event_type})
            attributes = {
                "settle.escalation.id": view.row.id,
                "settle.team": team,
                "settle.clock": "RESPONSE",
                "settle.clock.target_minutes": view.clock.target_minutes,
                "settle.clock.remaining_minutes": view.clock.remaining_minutes,
            }
            with tracer.start_as_current_span(event_type, attributes=attributes):
                log.info("OLA milestone", escalation_id=view.row.id, team=team, kind=event_type)
        if fired:
            ctx.signals.changed()
        return len(due)
