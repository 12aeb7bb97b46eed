"""Firing the OLA's warnings and breach: by the sweeper when they fall due, and by any use case
that is about to change the clock, so a milestone reached just before a change is never lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.sla import BusinessCalendar
from services.escalation.data.models import EscalationRow
from services.escalation.domain import ola
from services.escalation.service import clocks, journal

OLA_ACTOR = "rule:ola"


def fire_due(
    session: AsyncSession, row: EscalationRow, cal: BusinessCalendar, now: datetime
) -> list[str]:
    """Records every milestone reached by `now` and not fired yet; returns their event types.
    The caller holds the clock row's lock and publishes the events in the same transaction."""
    clock = clocks.to_clock(row.clock)
    fired = clocks.fired_of(row.clock)
    reached = ola.due(clock, cal, fired, now)
    if not reached:
        return []
    for milestone in reached:
        fired = (*fired, milestone.name)
        journal.record(
            session,
            row,
            f"OLA_{milestone.name}",
            OLA_ACTOR,
            now,
            from_state=row.state,
            details={
                "due_time": milestone.due_at.isoformat(),
                "target_minutes": row.clock.target_minutes,
            },
        )
    clocks.store(row, clock, fired, cal)
    return [clocks.EVENT_OF_MILESTONE[m.name] for m in reached]
