"""One sweeper pass in plain Python: the cases it locked, their clocks, what each firing writes
and the state the kept firings leave behind (a case fired twice in one batch sees its first
firing). No ORM objects: the rows are read and written by sweep_sql.py.

Each firing's values are computed inside its own span (firings.py), so its history row records
that trace and its escalation event carries it; breach events are URGENT in the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from common import tracing
from common.outbox import NORMAL, URGENT
from common.sla import clock as sla
from services.disputes.data import sweep as sweep_sql
from services.disputes.outbound import escalation_messages, events
from services.disputes.data import repository as repo
from services.disputes.domain import milestones
from services.disputes.service.firing_telemetry import Firing, firing_span
from services.disputes.service.clocks import counting, current, to_clock
from services.disputes.service.context import DisputesContext

log = structlog.get_logger("settle.disputes.sweeper")
ACTOR = "rule:sla"


@dataclass
class Fired:
    writes: sweep_sql.Writes
    firing: Firing


class SweepBatch:
    def __init__(self, ctx: DisputesContext, now: datetime, due: list[Row], cases: dict[str, Row]):
        self.ctx, self.now, self.cases = ctx, now, cases
        self.firable = [m for m in due if m.dispute_id in cases]
        self.skipped = len(due) - len(self.firable)  # their case is locked by someone else
        self.firings: list[Firing] = []  # kept (written) firings, counted once committed
        self.still: dict[str, int] = {}
        self.clocks: dict[str, list[Row]] = {}
        self.calendars: dict = {}
        self.teams: dict[str, str] = {}
        self._clock: dict[str, Row] = {}
        self._sla: dict = {}  # clock id -> common.sla Clock (unchanged by firing: built once)
        self._flags: dict[str, list[str]] = {}  # clock id -> fired thresholds, as kept so far
        self._states = {case_id: case.sla_state for case_id, case in cases.items()}

    @classmethod
    async def lock(
        cls, ctx: DisputesContext, session: AsyncSession, due: list[Row], now: datetime
    ) -> SweepBatch:
        """Locks the due milestones' cases (SKIP LOCKED) and reads what firing them needs."""
        batch = cls(
            ctx, now, due, await repo.try_lock_disputes(session, {m.dispute_id for m in due})
        )
        ids = sorted(batch.cases)
        if not ids:
            return batch
        batch.still = await sweep_sql.still_disputed(session, ids)
        batch.clocks = await sweep_sql.clocks_of(session, ids)
        batch._clock = {c.id: c for rows in batch.clocks.values() for c in rows}
        batch._flags = {c.id: [n for n in c.fired.split(",") if n] for c in batch._clock.values()}
        batch._sla = {c.id: to_clock(c) for c in batch._clock.values()}
        batch.calendars = await ctx.calendars.load(
            session, {c.calendar_id for c in batch._clock.values()}
        )
        causes = {c.root_cause_code for c in batch.cases.values() if c.root_cause_code}
        batch.teams = await repo.owning_teams(session, causes)
        return batch

    def fire(self, milestone: Row) -> Fired:
        """What firing `milestone` writes, given the firings kept so far; changes nothing."""
        case, row = self.cases[milestone.dispute_id], self._clock[milestone.clock_id]
        flags = [*self._flags[row.id], milestone.name]
        state = milestones.case_state(
            (self._sla[r.id], flags if r.id == row.id else self._flags[r.id])
            for r in current(self.clocks[case.id])
        ).value
        remaining = sla.remaining(
            self._sla[row.id], counting(row, self.calendars, self.ctx.calendars.always), self.now
        )
        firing = Firing(
            case_id=case.id,
            clock=row.kind,
            threshold=milestone.name,
            policy=row.policy_id,
            reason=case.reason_code,
            team=self.teams.get(case.root_cause_code, ""),
            target_s=row.target_us / 1e6,
            remaining_s=remaining.total_seconds(),
            started_at=row.started_at,
            fired_at=self.now,
            origin_traceparent=case.origin_traceparent,
        )
        writes = sweep_sql.Writes(fired=[milestone.id], flags={row.id: ",".join(flags)})
        if state != self._states[case.id]:
            writes.states[case.id] = state
        # Inside the span: the history row records its trace, the outbox event carries it.
        with firing_span(self.ctx.tracer, firing):
            lateness_ms = int((self.now - milestone.due_at).total_seconds() * 1000)
            tracing.annotate({"settle.sla.lateness_ms": lateness_ms})
            details = {
                "clock": row.kind,
                "cycle": row.cycle,
                "threshold": milestone.name,
                "due_time": milestone.due_at.isoformat(),
                "fired_time": self.now.isoformat(),
                "lateness_ms": lateness_ms,
                "remaining": remaining,
                "policy": row.policy_id,
            }
            writes.history.append(self._history(case, firing, details))
            writes.outbox.append(self._escalation(case, milestone, row, firing))
            log.info(
                "sla milestone fired",
                clock=row.kind,
                threshold=milestone.name,
                lateness_ms=lateness_ms,
            )
        return Fired(writes, firing)

    def keep(self, fired: Fired) -> None:
        """The firing was written: later firings of its clock and case see it."""
        for clock_id, flags in fired.writes.flags.items():
            self._flags[clock_id] = flags.split(",")
        self._states.update(fired.writes.states)
        self.firings.append(fired.firing)

    def _history(self, case: Row, firing: Firing, details: dict) -> dict:
        """A CLOCK_WARNED/CLOCK_BREACHED row as service/history.py writes one."""
        return {
            "dispute_id": case.id,
            "kind": "CLOCK_BREACHED" if firing.breach else "CLOCK_WARNED",
            "actor": ACTOR,
            "occurred_at": self.now,
            "version": case.version,
            "from_status": None,
            "to_status": None,
            "comment": "",
            "details": json.dumps({k: str(v) for k, v in details.items()}, sort_keys=True),
            "traceparent": tracing.current_traceparent(),
        }

    def _escalation(self, case: Row, milestone: Row, row: Row, firing: Firing) -> dict:
        """Every firing is an escalation reason (DOMAIN.md); a breach goes first."""
        request = events.escalation_request(
            case,
            self.still.get(case.id, 0),
            reason_code="SLA_BREACH" if firing.breach else "SLA_WARNING",
            summary=f"{row.kind.lower()} clock {milestone.name.lower()} on {case.title}",
            raised_by="rule:sla-breach" if firing.breach else "rule:sla-warning",
            trigger_event_id=milestone.id,
            clock=row.kind,
            threshold=milestone.name,
            due_time=milestone.due_at.isoformat(),
        )
        return self.ctx.outbox.row(
            destination="escalation",
            method=escalation_messages.METHOD,
            request=request,
            subject=events.name(case),
            priority=URGENT if firing.breach else NORMAL,
            now=self.now,
        )
