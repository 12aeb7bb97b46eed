"""Firing the OLA's warnings and breach: by the sweeper when they fall due, and by any use case
that is about to change the clock, so a milestone reached just before a change is never lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from common.sla import BusinessCalendar
from services.escalation.data import rows
from services.escalation.data.models import EscalationRow
from services.escalation.domain import ola
from services.escalation.service import clocks

OLA_ACTOR = "rule:ola"


@dataclass(frozen=True)
class Fired:
    """The milestones fired: their event types, and history entries (rows.history) for the
    caller to write the way it writes that escalation's other rows."""

    events: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)


def fire_due(row: EscalationRow, cal: BusinessCalendar, now: datetime) -> Fired:
    """Marks every milestone reached by `now` and not fired yet on the row's clock. The caller
    holds the clock row's lock, writes the history and publishes the events in the same
    transaction."""
    clock = clocks.to_clock(row.clock)
    fired = clocks.fired_of(row.clock)
    reached = ola.due(clock, cal, fired, now)
    if not reached:
        return Fired()
    history = []
    for milestone in reached:
        fired = (*fired, milestone.name)
        history.append(
            rows.history(
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
        )
    clocks.store(row, clock, fired, cal)
    return Fired([clocks.EVENT_OF_MILESTONE[m.name] for m in reached], history)
