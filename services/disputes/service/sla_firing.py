"""Firing due SLA milestones (warnings, breach): one sweeper pass, one transaction; or, in a
command's transaction, the due milestones of the one case whose clocks it is about to change.

A pass claims due, unfired milestones and locks their cases, both SKIP LOCKED (data/sweep.py), and
fires them in its transaction: the milestones, their clocks' fired flags, the cases' SLA state,
the history rows and the escalation events commit together or not at all. Set-based: each
firing's values are computed in plain Python (SweepBatch: the cases locked, their clocks, what
each firing writes and the state the kept firings leave behind, so a case fired twice in one batch
sees its first firing), then written with one statement per table for the whole batch. No ORM
objects.

A batch's breaches share one span and its warnings another, each firing an event and a link to
its case's origin on it (firing_telemetry.py); its history row records that span's trace and its
escalation event carries it; breach events are URGENT in the outbox.
A pass that fires is a `settle.sla.sweep` span holding its SQL; idle polls are not traced.

Both paths compute each firing with the same FiringBatch.fire, so a milestone fired by a command
writes the same history row, escalation event, span and metrics as one the sweeper fires. The
command path locks its case's due milestones FOR UPDATE, waiting for a sweeper that claimed one,
and takes only those still unfired; the sweeper claims SKIP LOCKED and skips a case a command
holds. Each milestone therefore fires once, by whichever gets there first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy.ext.asyncio import AsyncSession

from common.outbox import NORMAL, URGENT
from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from services.disputes.data import repository as repo
from services.disputes.data import sweep
from services.disputes.data.models import DisputeRow
from services.disputes.data.rows import history_values
from services.disputes.domain import milestones
from services.disputes.domain.policies import DEFAULT_ESCALATING
from services.disputes.outbound import escalation_messages, events
from services.disputes.service.calendars import versions_of
from services.disputes.service.clock_rows import counting, current, to_clock
from services.disputes.service.context import DisputesContext
from services.disputes.service.firing_telemetry import Firing, FiringSpans, count

log = structlog.get_logger("settle.disputes.sweeper")
ACTOR = "rule:sla"


@dataclass(frozen=True)
class SweepResult:
    fired: int
    skipped: int  # due but locked by someone else this pass
    failed: int = 0  # raised while firing (a bug): retried on later passes


async def sweep_once(ctx: DisputesContext, batch_size: int) -> SweepResult:
    """One pass. Firings are flushed together (a savepoint each costs 3x the throughput); if any
    fails, the pass is rolled back and redone with a savepoint per firing, so one bad row cannot
    hold the others back."""
    try:
        result = await _pass(ctx, batch_size, isolate=False)
    except Exception:
        log.exception("sweeper batch failed; retrying it firing by firing")
        result = await _pass(ctx, batch_size, isolate=True)
    if result.fired:
        ctx.changed()
    return result


async def next_pass_in(ctx: DisputesContext, skipped: int, max_sleep_s: float) -> float:
    """Seconds until the next pass of a sweeper that fired nothing: soon when someone holds a due
    case, else until the earliest due milestone (at most `max_sleep_s`)."""
    if skipped:
        return min(0.05, max_sleep_s)
    with suppress_instrumentation():  # the idle poll: a trace per second would be noise
        async with ctx.db.transaction() as session:
            due = await sweep.next_due(session)
    if due is None:
        return max_sleep_s
    return max(0.0, min(max_sleep_s, (due - ctx.clock.now()).total_seconds()))


async def _pass(ctx: DisputesContext, batch_size: int, *, isolate: bool) -> SweepResult:
    async with ctx.db.transaction() as session:
        now = ctx.clock.now()
        with suppress_instrumentation():  # most passes find nothing: no trace for those
            due = await sweep.claim_due(session, now, batch_size)
        if not due:
            return SweepResult(0, 0)
        with ctx.tracer.start_as_current_span(
            "settle.sla.sweep", attributes={"settle.sweep.due": len(due)}
        ) as span:
            batch = await FiringBatch.lock(ctx, session, due, now)
            result = await (_isolated(session, batch) if isolate else _all(session, batch))
            span.set_attributes(
                {"settle.sweep.fired": result.fired, "settle.sweep.skipped": result.skipped}
            )
    count(ctx.metrics, batch.firings)  # committed: a failed pass is redone, never counted
    return result


async def _all(session: AsyncSession, batch: FiringBatch) -> SweepResult:
    await sweep.write(session, batch.fire_all(), batch.now)
    return SweepResult(len(batch.firable), batch.skipped)


async def fire_due_of_case(
    ctx: DisputesContext,
    session: AsyncSession,
    case: DisputeRow,
    calendars: dict[str, BusinessCalendar],
    now: datetime,
) -> list[Firing]:
    """A command's firing of its case's due milestones, before it changes the case's clocks. The
    case is locked and loaded (items, clocks) by the caller, its clocks' `calendars` built; the
    firings are written through the unit of work that holds them. Returns them, for the caller
    to count once committed."""
    due = await repo.lock_due_milestones(session, case.id, now)
    if not due:
        return []
    teams = await repo.owning_teams(session, {case.root_cause_code} - {None})
    batch = FiringBatch(
        ctx,
        now,
        due,
        {case.id: case},
        still={case.id: sum(i.still_minor for i in case.items)},
        clocks={case.id: list(case.clocks)},
        calendars=calendars,
        teams=teams,
        escalating=await repo.escalating_milestones(session, {c.policy_id for c in case.clocks}),
    )
    await repo.save_firings(session, batch.fire_all(), now)
    return batch.firings


async def _isolated(session: AsyncSession, batch: FiringBatch) -> SweepResult:
    """A savepoint per firing, so one bad row cannot hold the others back."""
    fired = failed = 0
    try:
        for milestone in batch.firable:
            try:
                fired_one = batch.fire(milestone)
                async with session.begin_nested():
                    await sweep.write(session, fired_one.writes, batch.now)
            except Exception:
                log.exception(
                    "milestone firing failed", milestone=milestone.id, case_id=milestone.dispute_id
                )
                failed += 1
                continue
            batch.keep(fired_one)
            fired += 1
    finally:
        batch.spans.end()
    return SweepResult(fired, batch.skipped, failed)


@dataclass
class Fired:
    writes: sweep.Writes
    firing: Firing


class FiringBatch:
    """Due milestones of locked cases and what firing them needs. Cases, clocks and milestones
    are anything with their tables' columns as attributes: the sweeper's plain rows, or a
    command's ORM objects."""

    def __init__(
        self,
        ctx: DisputesContext,
        now: datetime,
        due: list,
        cases: dict,
        *,
        still: dict[str, int],
        clocks: dict[str, list],
        calendars: dict[str, BusinessCalendar],
        teams: dict[str, str],
        escalating: dict[str, frozenset[str]],
    ):
        self.ctx, self.now, self.cases = ctx, now, cases
        self.escalating = escalating  # policy id -> the milestones that raise an escalation
        self.firable = [m for m in due if m.dispute_id in cases]
        self.skipped = len(due) - len(self.firable)  # their case is locked by someone else
        self.firings: list[Firing] = []  # kept (written) firings, counted once committed
        self.still, self.clocks, self.calendars, self.teams = still, clocks, calendars, teams
        self._clock = {c.id: c for rows in clocks.values() for c in rows}
        self._sla = {c.id: to_clock(c) for c in self._clock.values()}  # unchanged by firing
        # clock id -> fired thresholds, as kept so far
        self._flags = {c.id: [n for n in c.fired.split(",") if n] for c in self._clock.values()}
        self._states = {case_id: case.sla_state for case_id, case in cases.items()}
        self.spans = FiringSpans(ctx.tracer)  # ended by fire_all, or by the caller of fire

    @classmethod
    async def lock(
        cls, ctx: DisputesContext, session: AsyncSession, due: list[tuple], now: datetime
    ) -> FiringBatch:
        """Locks the due milestones' cases (SKIP LOCKED) and reads what firing them needs."""
        cases = await sweep.try_lock_disputes(session, {m.dispute_id for m in due})
        ids = sorted(cases)
        if not ids:
            return cls(
                ctx, now, due, cases, still={}, clocks={}, calendars={}, teams={}, escalating={}
            )
        clocks = await sweep.clocks_of(session, ids)
        rows = [c for of_case in clocks.values() for c in of_case]
        causes = {c.root_cause_code for c in cases.values() if c.root_cause_code}
        return cls(
            ctx,
            now,
            due,
            cases,
            still=await sweep.still_disputed(session, ids),
            clocks=clocks,
            calendars=await ctx.calendars.load(
                session, {c.calendar_id for c in rows}, versions_of(rows)
            ),
            teams=await repo.owning_teams(session, causes),
            escalating=await repo.escalating_milestones(session, {c.policy_id for c in rows}),
        )

    def fire_all(self) -> sweep.Writes:
        """Every firable milestone fired and kept, in order: what they write together."""
        writes = sweep.Writes()
        try:
            for milestone in self.firable:
                fired = self.fire(milestone)
                self.keep(fired)
                writes.merge(fired.writes)
        finally:
            self.spans.end()
        return writes

    def fire(self, milestone) -> Fired:
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
        lateness = self.now - milestone.due_at
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
            lateness_ms=int(lateness.total_seconds() * 1000),
        )
        writes = sweep.Writes(fired=[milestone.id], flags={row.id: ",".join(flags)})
        if state != self._states[case.id]:
            writes.states[case.id] = state
        # The history row records the firing span's trace, the outbox event carries it.
        traceparent = self.spans.traceparent(firing.breach)
        details = {
            "clock": row.kind,
            "cycle": row.cycle,
            "threshold": milestone.name,
            "due_time": milestone.due_at.isoformat(),
            "fired_time": self.now.isoformat(),
            "lateness": lateness,
            # the escalation raised by this firing records it as its trigger_event_id
            "trigger_event_id": milestone.id,
            "remaining": remaining,
            "policy": row.policy_id,
        }
        kind = "CLOCK_BREACHED" if firing.breach else "CLOCK_WARNED"
        writes.history.append(
            history_values(case, kind, ACTOR, self.now, details=details, traceparent=traceparent)
        )
        if milestone.name in self.escalating.get(row.policy_id, DEFAULT_ESCALATING):
            writes.outbox.append(self._escalation(case, milestone, row, firing, traceparent))
        return Fired(writes, firing)

    def keep(self, fired: Fired) -> None:
        """The firing was written: later firings of its clock and case see it."""
        for clock_id, flags in fired.writes.flags.items():
            self._flags[clock_id] = flags.split(",")
        self._states.update(fired.writes.states)
        self.firings.append(fired.firing)
        self.spans.record(fired.firing)

    def _escalation(self, case, milestone, row, firing: Firing, traceparent: str | None) -> dict:
        """The escalation of a firing its policy escalates (by default the breach; DOMAIN.md);
        a breach goes first."""
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
            traceparent=traceparent,
        )
