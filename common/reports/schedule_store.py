"""Report schedules and their runs in a service's own database: the two tables (as mixins each
service's models.py declares once), and the locking claims that let several workers share them.

Planning locks due schedules with FOR UPDATE SKIP LOCKED and writes one run per period owed
(common/reports/schedules.runs_to_catch_up); the unique (schedule, period) key makes a second
run of a period impossible even if two planners raced. Running claims pending runs the same way
and holds them under a lease, so a worker that dies mid-run leaves its run to another after the
lease; a retried delivery keeps the run id as its delivery id (the Message-ID). A run that fails
(or whose worker dies) its configured number of attempts is parked FAILED with its last error.
Lists page by key: schedules by id, runs by (period, id); the page token is the last key answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    and_,
    or_,
    select,
)

from common.actor import Actor
from common.db import Database
from common.ids import new_id
from common.reports.catalog import GivenParameters
from common.reports.schedule_model import ReportRunMixin, ReportScheduleMixin
from common.reports.schedules import (
    LAST_DAY,
    DateRange,
    ExportFormat,
    Frequency,
    Period,
    Recurrence,
    Schedule,
    next_due,
    runs_to_catch_up,
)

PENDING, RUNNING, DELIVERED, SKIPPED = "PENDING", "RUNNING", "DELIVERED", "SKIPPED"
FAILED = "FAILED"  # parked after its last attempt, with its error: not retried any more


def schedule_of(row: ReportScheduleMixin) -> Schedule:
    month_day = row.month_day
    recurrence = Recurrence(
        Frequency(row.frequency),
        time(row.at_minute // 60, row.at_minute % 60),
        row.zone,
        weekday=row.weekday,
        month_day=LAST_DAY if month_day == LAST_DAY else int(month_day) if month_day else None,
    )
    return Schedule(
        report=row.report,
        parameters=json.loads(row.parameters),
        period=Period(row.period),
        recurrence=recurrence,
        format=ExportFormat(row.format),
        recipients=tuple(json.loads(row.recipients)),
        run_as=row.run_as_subject,
        send_only_if_data=row.send_only_if_data,
    )


@dataclass(frozen=True)
class ClaimedRun:
    """A run a worker holds under lease, with what it needs from its schedule."""

    id: str
    schedule_id: str
    period: DateRange
    schedule: Schedule
    run_as: Actor

    def given(self, reads_period: bool) -> GivenParameters:
        return scheduled_parameters(self.schedule, self.period, reads_period)


def scheduled_parameters(
    schedule: Schedule, period: DateRange, reads_period: bool
) -> GivenParameters:
    """A scheduled run's parameters: the period itself for a report over one, else as of the end
    of the period's last local day; the rest as stored."""
    stored = schedule.parameters
    end = datetime.combine(period.last + timedelta(days=1), time(), schedule.recurrence.tz)
    return GivenParameters(
        as_of=None if reads_period else end,
        period_start=period.first.isoformat() if reads_period else "",
        period_end=period.last.isoformat() if reads_period else "",
        bucket_bounds=tuple(int(b) for b in _list(stored.get("bucket_bounds"))),
        annual_rate=str(stored.get("annual_rate", "")),
        targets=tuple(str(t) for t in _list(stored.get("targets"))),
    )


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


class ScheduleStore:
    def __init__(
        self, db: Database, schedules: type[ReportScheduleMixin], runs: type[ReportRunMixin]
    ):
        self.db, self.schedules, self.runs = db, schedules, runs

    async def create(self, schedule: Schedule, run_as: Actor, now: datetime) -> ReportScheduleMixin:
        r = schedule.recurrence
        row = self.schedules(
            id=new_id(),
            report=schedule.report,
            parameters=json.dumps(dict(schedule.parameters), sort_keys=True),
            period=schedule.period.value,
            frequency=r.frequency.value,
            at_minute=r.at.hour * 60 + r.at.minute,
            zone=r.zone,
            weekday=r.weekday,
            month_day=None if r.month_day is None else str(r.month_day),
            format=schedule.format.value,
            recipients=json.dumps(list(schedule.recipients)),
            run_as_subject=run_as.subject,
            run_as_roles=",".join(run_as.roles),
            run_as_team=run_as.team,
            send_only_if_data=schedule.send_only_if_data,
            active=True,
            created_at=now,
            next_due_at=next_due(r, now),
        )
        async with self.db.transaction() as session:
            session.add(row)
        return row

    async def plan(self, now: datetime, catch_up_limit: int) -> int:
        """Writes the runs owed by every due schedule; returns how many."""
        S, R = self.schedules, self.runs
        written = 0
        async with self.db.transaction() as session:
            due = (
                await session.scalars(
                    select(S)
                    .where(S.active.is_(True), S.next_due_at <= now)
                    .order_by(S.next_due_at)
                    .limit(100)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in due:
                schedule = schedule_of(row)
                covered = (
                    DateRange(row.last_period_first, row.last_period_last)
                    if row.last_period_first and row.last_period_last
                    else None
                )
                owed = runs_to_catch_up(
                    schedule,
                    row.last_due_at or row.created_at,
                    now,
                    covered=covered,
                    limit=catch_up_limit,
                )
                for run in owed:
                    exists = await session.scalar(
                        select(R.id).where(
                            R.schedule_id == row.id,
                            R.period_first == run.period.first,
                            R.period_last == run.period.last,
                        )
                    )
                    if exists is None:
                        session.add(
                            R(
                                id=new_id(),
                                schedule_id=row.id,
                                period_first=run.period.first,
                                period_last=run.period.last,
                                due_at=run.due,
                                state=PENDING,
                                available_at=now,
                                attempts=0,
                            )
                        )
                        written += 1
                if owed:
                    row.last_due_at = owed[-1].due
                    row.last_period_first, row.last_period_last = (
                        owed[-1].period.first,
                        owed[-1].period.last,
                    )
                row.next_due_at = next_due(schedule.recurrence, now)
        return written

    async def claim(
        self, now: datetime, lease: timedelta, batch: int, max_attempts: int
    ) -> list[ClaimedRun]:
        """Pending runs (and runs whose worker's lease ran out), held until now + lease; a run
        whose worker died on its last attempt is parked instead."""
        S, R = self.schedules, self.runs
        async with self.db.transaction() as session:
            runs = (
                await session.scalars(
                    select(R)
                    .where(
                        or_(
                            and_(R.state == PENDING, R.available_at <= now),
                            and_(R.state == RUNNING, R.lease_until < now),
                        )
                    )
                    .order_by(R.due_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            claimed = []
            for run in runs:
                if run.state == RUNNING and run.attempts >= max_attempts:
                    run.state, run.lease_until, run.finished_at = FAILED, None, now
                    run.last_error = f"its worker stopped during all {run.attempts} attempts"
                    continue
                run.state, run.lease_until, run.attempts = RUNNING, now + lease, run.attempts + 1
                owner = await session.get(S, run.schedule_id)
                assert owner is not None  # runs are written for their schedule, never alone
                actor = Actor(
                    owner.run_as_subject,
                    tuple(r for r in owner.run_as_roles.split(",") if r),
                    owner.run_as_team,
                )
                claimed.append(
                    ClaimedRun(
                        run.id,
                        owner.id,
                        DateRange(run.period_first, run.period_last),
                        schedule_of(owner),
                        actor,
                    )
                )
        return claimed

    async def finish(
        self,
        run_id: str,
        state: str,
        now: datetime,
        *,
        rows: int,
        artefact: str | None = None,
        content_type: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        async with self.db.transaction() as session:
            run = await session.get(self.runs, run_id)
            assert run is not None
            run.state, run.rows, run.finished_at, run.lease_until = state, rows, now, None
            run.artefact, run.content_type, run.expires_at = artefact, content_type, expires_at
            run.last_error = None

    async def failed(
        self, run_id: str, error: str, now: datetime, retry_at: datetime, max_attempts: int
    ) -> str:
        """Records a failed attempt: retried at `retry_at`, or parked FAILED after the last one.
        Returns the state the run is left in."""
        async with self.db.transaction() as session:
            run = await session.get(self.runs, run_id)
            assert run is not None
            run.lease_until, run.last_error = None, error[:2000]
            if run.attempts >= max_attempts:
                run.state, run.finished_at = FAILED, now
            else:
                run.state, run.available_at = PENDING, retry_at
            return run.state

    async def listed(self, owner: str | None, after: str, limit: int) -> list[ReportScheduleMixin]:
        """Active schedules, oldest first: `owner`'s (its run-as subject), or all for None."""
        S = self.schedules
        query = select(S).where(S.active.is_(True), S.id > after).order_by(S.id).limit(limit)
        if owner is not None:
            query = query.where(S.run_as_subject == owner)
        async with self.db.reading() as session:
            return list((await session.scalars(query)).all())

    async def owned(self, schedule_id: str, owner: str | None) -> ReportScheduleMixin | None:
        """The schedule, if `owner` (None: anyone's) may see it."""
        async with self.db.reading() as session:
            row = await session.get(self.schedules, schedule_id)
        if row is None or (owner is not None and row.run_as_subject != owner):
            return None
        return row

    async def deactivate(self, schedule_id: str, owner: str | None) -> bool:
        """Stops an active schedule (its runs and files stay); False when there is none to stop."""
        async with self.db.transaction() as session:
            row = await session.get(self.schedules, schedule_id, with_for_update=True)
            if row is None or not row.active:
                return False
            if owner is not None and row.run_as_subject != owner:
                return False
            row.active = False
            return True

    async def runs_of(
        self, schedule_id: str, after: tuple[date, str] | None, limit: int
    ) -> list[ReportRunMixin]:
        """A schedule's runs, newest period first (then id), those after (period, id) `after`."""
        R = self.runs
        query = select(R).where(R.schedule_id == schedule_id)
        if after is not None:
            query = query.where(
                or_(R.period_first < after[0], and_(R.period_first == after[0], R.id < after[1]))
            )
        query = query.order_by(R.period_first.desc(), R.id.desc()).limit(limit)
        async with self.db.reading() as session:
            return list((await session.scalars(query)).all())

    async def expired(self, now: datetime) -> list[str]:
        """Forgets the artefacts past their keeping time; returns their file names to delete."""
        R = self.runs
        async with self.db.transaction() as session:
            runs = (
                await session.scalars(
                    select(R).where(R.artefact.is_not(None), R.expires_at <= now).limit(500)
                )
            ).all()
            names = [run.artefact for run in runs if run.artefact]
            for run in runs:
                run.artefact = None
        return names

    async def artefact(self, run_id: str) -> tuple[ReportRunMixin, ReportScheduleMixin] | None:
        async with self.db.reading() as session:
            run = await session.get(self.runs, run_id)
            if run is None:
                return None
            owner = await session.get(self.schedules, run.schedule_id)
            assert owner is not None
            return run, owner

    async def next_due(self) -> datetime | None:
        S = self.schedules
        async with self.db.reading() as session:
            return await session.scalar(
                select(S.next_due_at).where(S.active.is_(True)).order_by(S.next_due_at).limit(1)
            )
