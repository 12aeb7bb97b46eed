"""The OLA clock between rows and common.sla values, and the firing of due milestones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import FailedPrecondition
from common.sla import BusinessCalendar, ClockKind, ClockStatus, PauseReason
from common.sla import Clock as SlaClock
from services.escalation.data import repository as repo
from services.escalation.data.models import EscalationRow, ResponseClockRow
from services.escalation.data.reads import ClockRecord, EscalationRecord
from services.escalation.domain import ola
from services.escalation.service.context import ReferenceData

_US = timedelta(microseconds=1)
EVENT_OF_MILESTONE = {
    "WARNING_50": "escalation.ola_warning_50",
    "WARNING_75": "escalation.ola_warning_75",
    "BREACH": "escalation.ola_breached",
}


def fired_of(row: ResponseClockRow | ClockRecord) -> tuple[str, ...]:
    return tuple(x for x in row.fired.split(",") if x)


def to_clock(row: ResponseClockRow | ClockRecord) -> SlaClock:
    return SlaClock(
        kind=ClockKind.RESPONSE,
        target=timedelta(minutes=row.target_minutes),
        status=ClockStatus(row.status),
        started_at=row.started_at,
        spent_before=row.spent_before_us * _US,
        running_since=row.running_since,
        paused_total=row.paused_total_us * _US,
        paused_since=row.paused_since,
        pause_reason=PauseReason(row.pause_reason) if row.pause_reason else None,
        stopped_at=row.stopped_at,
        pausable=True,
    )


def store(
    escalation: EscalationRow, clock: SlaClock, fired: tuple[str, ...], cal: BusinessCalendar
) -> None:
    """Writes the clock back, with when the sweeper must next look and the queue's due time."""
    row = escalation.clock
    row.target_minutes = int(clock.target / timedelta(minutes=1))
    row.status = clock.status.value
    row.started_at = clock.started_at
    row.spent_before_us = clock.spent_before // _US
    row.running_since = clock.running_since
    row.paused_total_us = clock.paused_total // _US
    row.paused_since = clock.paused_since
    row.pause_reason = clock.pause_reason.value if clock.pause_reason else None
    row.stopped_at = clock.stopped_at
    row.fired = ",".join(fired)
    row.next_due_at = ola.next_due(clock, cal, fired)
    escalation.response_due_at = ola.breach_time(clock, cal, fired, escalation.response_due_at)


async def target_for(
    session: AsyncSession, team: str, severity: int, reference: ReferenceData | None = None
) -> timedelta:
    """The team's OLA target for `severity`; with `reference`, its rows are reused a while."""
    if reference is None:
        minutes = await repo.ola_target_minutes(session, team, severity)
    else:
        minutes = await reference.get(
            ("ola_target", team, severity),
            lambda: repo.ola_target_minutes(session, team, severity),
        )
    if minutes is None:
        raise FailedPrecondition(
            f"no OLA target is configured for team {team}", reason="NO_OLA_TARGET"
        )
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class ClockView:
    status: str
    target_minutes: int
    due_time: datetime | None
    remaining_minutes: int
    fired: tuple[str, ...]

    @property
    def breached(self) -> bool:
        return ola.BREACH in self.fired


def view(escalation: EscalationRecord, cal: BusinessCalendar, now: datetime) -> ClockView:
    row = escalation.clock
    clock = to_clock(row)
    left = ola.remaining(clock, cal, now)
    return ClockView(
        status=row.status,
        target_minutes=row.target_minutes,
        due_time=escalation.response_due_at,
        remaining_minutes=int(left // timedelta(minutes=1)),
        fired=fired_of(row),
    )
