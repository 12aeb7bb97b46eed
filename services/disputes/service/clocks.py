"""The SLA clocks of one case inside one transaction: their changes (start, pause, resume, stop,
re-target), their milestones (replaced on every change), their history rows and span events, and
the case's derived SLA state.

Before any clock of the case stops, pauses or is re-targeted, its milestones already due fire
(service/sla_firing.py, the sweeper's own firing), with their true due time and lateness: a
milestone is never replaced unfired once due, however late the sweeper is."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from common import tracing
from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from common.sla.clock import ClockStatus, PauseReason
from services.disputes.data import repository as repo
from services.disputes.data.models import ClockRow, DisputeRow
from services.disputes.data.rows import clock_row, history_row, milestone_row
from services.disputes.domain import milestones
from services.disputes.domain.policies import (
    Policy,
    calendar_id_for,
    select_policy,
    thresholds,
)
from services.disputes.domain.status import ClockChange, ClockOp
from services.disputes.service import sla_firing
from services.disputes.service.calendars import versions_of
from services.disputes.service.clock_rows import (
    LIVE,
    US,
    case_facts,
    counting,
    current,
    fired,
    store,
    to_clock,
)
from services.disputes.service.context import DisputesContext
from services.disputes.service.firing_telemetry import Firing

# History kind -> span event (`settle.sla.<event>`); the kit has no event for a cancelled clock,
# which stays a history row only. Warnings and breaches are recorded by their firing.
SPAN_EVENTS = {
    "CLOCK_STARTED": "started",
    "CLOCK_PAUSED": "paused",
    "CLOCK_RESUMED": "resumed",
    "CLOCK_RETARGETED": "retargeted",
    "CLOCK_MET": "met",
}


class ClockDesk:
    """Every clock change of one case in the caller's transaction. The case row is locked.

    For a brand-new case (intake), `new_rows` collects the rows the desk writes (clocks,
    milestones, history) for the caller to insert with the case, and calendars come from the
    book's index: nothing in the transaction has changed them."""

    def __init__(
        self,
        ctx: DisputesContext,
        session: AsyncSession,
        case: DisputeRow,
        now: datetime,
        actor: str,
        *,
        new_rows: list | None = None,
    ):
        self.ctx, self.session, self.case, self.now, self.actor = ctx, session, case, now, actor
        self.book = ctx.calendars
        self.new_rows = new_rows
        self._add = session.add if new_rows is None else new_rows.append
        self.calendars: dict[str, BusinessCalendar] = {}
        self._versions: dict[str, int] = {}  # calendar id -> version, where known
        self._customer_calendar: tuple[str | None] | None = None  # read once per desk
        self._due_fired = new_rows is not None  # a brand-new case has nothing due
        # What fired in this transaction, for the caller to count once it has committed.
        self.firings: list[Firing] = []

    async def _customer_calendar_id(self) -> str | None:
        if self._customer_calendar is None:
            if self.new_rows is None:
                found = await repo.customer_calendar_id(self.session, self.case.customer_id)
            else:
                found = await self.book.customer_calendar_id(self.session, self.case.customer_id)
            self._customer_calendar = (found,)
        return self._customer_calendar[0]

    async def _calendar(self, calendar_id: str) -> BusinessCalendar:
        if calendar_id not in self.calendars:
            if self.new_rows is None:
                self._versions.update(versions_of(self.case.clocks))
                found = await self.book.load(self.session, {calendar_id}, self._versions)
                self.calendars.update(found)
            else:
                calendar, version = await self.book.current(self.session, calendar_id)
                self.calendars[calendar_id], self._versions[calendar_id] = calendar, version
        return self.calendars[calendar_id]

    async def load(self) -> None:
        self._versions.update(versions_of(self.case.clocks))
        ids = {r.calendar_id for r in self.case.clocks}
        self.calendars.update(await self.book.load(self.session, ids, self._versions))

    async def fire_due(self) -> None:
        """Fires every milestone of the case due by now, once per desk, before its first clock
        change: the same firing as the sweeper's (history row, escalation event, span), locked so
        that whichever of the two gets there first fires it, once."""
        if self._due_fired:
            return
        self._due_fired = True
        if {r.calendar_id for r in self.case.clocks} - self.calendars.keys():
            await self.load()
        self.firings += await sla_firing.fire_due_of_case(
            self.ctx, self.session, self.case, self.calendars, self.now
        )

    def live(self) -> dict[str, ClockRow]:
        return {r.kind: r for r in current(self.case.clocks) if r.status in LIVE}

    async def start(self, kind: str, policies: list[Policy], cycle: int = 1) -> ClockRow:
        policy = select_policy(policies, kind, case_facts(self.case))
        cal_id = calendar_id_for(policy, await self._customer_calendar_id())
        business = await self._calendar(cal_id)
        clock = sla.start(sla.ClockKind(kind), policy.target.duration(business), self.now)
        row = clock_row(
            self.case.id,
            kind,
            cycle,
            pausable=clock.pausable,
            policy_id=policy.id,
            calendar_id=cal_id,
            target_value=policy.target.value,
            target_unit=policy.target.unit.value,
            warning_percents=policy.warning_percents,
            started_at=self.now,
        )
        row.calendar_version = self._versions.get(cal_id)
        store(row, clock)
        self._add(row)
        self.case.clocks.append(row)
        if self.new_rows is None:  # milestones reference it (no ORM relationship orders them)
            await self.session.flush([row])
        self._event(row, "CLOCK_STARTED", clock.target, policy=policy.id, target=clock.target)
        await self.replan(row, new=True)
        return row

    async def apply(self, changes: list[ClockChange], pause_reason: str | None, policies) -> None:
        await self.fire_due()
        live = self.live()
        for change in changes:
            if change.op is ClockOp.RESTART:
                old = [r.cycle for r in self.case.clocks if r.kind == change.kind]
                await self.start(change.kind, policies, cycle=max(old, default=0) + 1)
                continue
            row = live[change.kind]
            cal = counting(row, self.calendars, self.book.always)
            clock = to_clock(row)
            if change.op is ClockOp.PAUSE:
                clock, kind = (
                    sla.pause(clock, cal, self.now, PauseReason(pause_reason)),
                    "CLOCK_PAUSED",
                )
            elif change.op is ClockOp.RESUME:
                clock, kind = sla.resume(clock, cal, self.now), "CLOCK_RESUMED"
            elif change.op is ClockOp.MEET:
                clock, kind = sla.stop(clock, cal, self.now, ClockStatus.MET), "CLOCK_MET"
            else:
                clock, kind = (
                    sla.stop(clock, cal, self.now, ClockStatus.CANCELLED),
                    "CLOCK_CANCELLED",
                )
            store(row, clock)
            remaining = sla.remaining(clock, cal, self.now)
            self._event(
                row,
                kind,
                remaining,
                spent=sla.spent(clock, cal, self.now),
                remaining=remaining,
                reason=pause_reason or "",
            )
            await self.replan(row)

    async def retarget(self, policies: list[Policy]) -> None:
        """Re-select each live clock's policy (priority, amount or policy changed); a new target
        keeps the time already spent and paused."""
        await self.fire_due()
        facts = case_facts(self.case)
        for row in self.live().values():
            policy = select_policy(policies, row.kind, facts)
            cal_id = calendar_id_for(policy, await self._customer_calendar_id())
            target = policy.target.duration(await self._calendar(cal_id))
            steps = ",".join(map(str, policy.warning_percents))
            same = (policy.id, cal_id, target // US, steps) == (
                row.policy_id,
                row.calendar_id,
                row.target_us,
                row.warning_percents,
            )
            if same:
                continue
            before = row.target_us * US
            row.policy_id, row.calendar_id, row.warning_percents = policy.id, cal_id, steps
            row.calendar_version = self._versions.get(cal_id)
            row.target_value, row.target_unit = policy.target.value, policy.target.unit.value
            cal = counting(row, self.calendars, self.book.always)
            clock = sla.retarget(to_clock(row), cal, target, self.now)
            store(row, clock)
            remaining = sla.remaining(clock, cal, self.now)
            self._event(
                row,
                "CLOCK_RETARGETED",
                remaining,
                policy=policy.id,
                old_target=before,
                target=target,
                remaining=remaining,
            )
            await self.replan(row)

    async def replan(self, row: ClockRow, *, new: bool = False) -> None:
        """Unfired milestones are replaced by those of the clock as it is now (a `new` clock,
        just started, has none to delete); those already due fire first."""
        if not new:
            await self.fire_due()
            await repo.delete_unfired_milestones(self.session, row.id)
        if row.status != ClockStatus.RUNNING:
            self.refresh_case()
            return
        steps = thresholds(tuple(int(p) for p in row.warning_percents.split(",") if p))
        planned = milestones.plan(
            to_clock(row),
            counting(row, self.calendars, self.book.always),
            steps,
            fired(row),
            self.now,
        )
        for p in planned:
            self._add(milestone_row(row.id, self.case.id, p.name, p.due_at))
        self.refresh_case()

    def refresh_case(self) -> None:
        rows = current(self.case.clocks)
        self.case.sla_state = milestones.case_state((to_clock(r), fired(r)) for r in rows).value
        resolve = next((r for r in rows if r.kind == "RESOLVE"), None)
        due = None
        if resolve is not None and resolve.status == ClockStatus.RUNNING:
            due = milestones.read(
                to_clock(resolve), counting(resolve, self.calendars, self.book.always), self.now
            ).due_at
        self.case.due_at = due

    def _event(self, row: ClockRow, kind: str, left: timedelta, **details) -> None:
        """A history row, and a span event on the span of the action moving the clock."""
        details = {"clock": row.kind, "cycle": row.cycle, **details}
        self._add(history_row(self.case, kind, self.actor, self.now, details=details))
        if kind in SPAN_EVENTS:
            tracing.clock_event(
                SPAN_EVENTS[kind],
                case_id=self.case.id,
                clock=row.kind,
                policy=row.policy_id,
                target_s=row.target_us / 1e6,
                business_remaining_s=left.total_seconds(),
            )
