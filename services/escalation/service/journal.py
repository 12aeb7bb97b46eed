"""Every change leaves two traces: a history entry (the audit of one escalation) and, when others
must hear of it, an event in the feed that watch streams and webhooks deliver.

Events get their sequence from a counter row updated in the same transaction. The row lock is
held until commit, so sequences become visible in order: a watcher that has seen sequence n can
never later find an n-1 committed behind its back. Publishing is the last step of a use case,
which keeps that lock short.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.ids import new_id
from common.sla import BusinessCalendar
from services.escalation.data import repository as repo
from services.escalation.data.models import EscalationRow, HistoryRow
from services.escalation.service import clocks
from services.escalation.service.context import EscalationContext, Touched

_TOUCHED = "settle.escalation.touched"  # session.info key


def touched(session: AsyncSession) -> Touched:
    """What this transaction's publications touched so far (for Signals.changed)."""
    return session.info.setdefault(_TOUCHED, Touched())


@dataclass(frozen=True)
class EscalationView:
    """An escalation as shown to callers: the row and its clock as of a moment."""

    row: EscalationRow
    clock: clocks.ClockView


async def view_of(
    session: AsyncSession,
    ctx: EscalationContext,
    row: EscalationRow,
    now: datetime,
    cal: BusinessCalendar | None = None,
) -> EscalationView:
    cal = cal or await ctx.calendars.for_team(session, row.clock.team)
    return EscalationView(row, clocks.view(row, cal, now))


def history_values(
    row: EscalationRow,
    action: str,
    actor: str,
    at: datetime,
    *,
    from_state: str = "",
    details: dict | None = None,
) -> dict:
    """A history entry's columns (for a multi-row insert; `record` adds one to the session)."""
    return {
        "escalation_id": row.id,
        "action": action,
        "actor": actor,
        "at": at,
        "from_state": from_state,
        "to_state": row.state,
        "version": row.version,
        "details": json.dumps(
            {k: str(v) for k, v in (details or {}).items() if v not in ("", None)}
        ),
    }


def record(
    session: AsyncSession,
    row: EscalationRow,
    action: str,
    actor: str,
    at: datetime,
    *,
    from_state: str = "",
    details: dict | None = None,
) -> None:
    session.add(
        HistoryRow(**history_values(row, action, actor, at, from_state=from_state, details=details))
    )


async def publish(
    session: AsyncSession,
    ctx: EscalationContext,
    events: Sequence[tuple[str, EscalationView]],
    at: datetime,
) -> None:
    """Appends events to the feed and a pending delivery per live subscription of their team:
    three or four statements however many events (a batch of raises publishes once)."""
    if not events:
        return
    await session.flush()  # rows the events point at exist before the counter is locked
    last = await repo.next_sequences(session, len(events))
    first = last - len(events) + 1
    rows = [
        {
            "sequence": first + offset,
            "escalation_id": view.row.id,
            "team": view.row.team,
            "type": event_type,
            "occurred_at": at,
            "body": ctx.render_event(event_type, first + offset, at, view),
        }
        for offset, (event_type, view) in enumerate(events)
    ]
    await repo.insert_rows(session, repo.INSERT_EVENTS, rows)  # events before their deliveries
    subscribers = await repo.live_subscribers(session, sorted({r["team"] for r in rows}))
    deliveries = [
        {
            "id": new_id(),
            "subscription_id": subscription_id,
            "event_sequence": event["sequence"],
            "event_type": event["type"],
            "escalation_id": event["escalation_id"],
            "state": "PENDING",
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": at,
            "created_at": at,
            "delivered_at": None,
        }
        for event in rows
        for subscription_id in subscribers.get(event["team"], ())
    ]
    await repo.insert_rows(session, repo.INSERT_DELIVERIES, deliveries)
    seen = touched(session)
    seen.deliveries += len(deliveries)
    for _, view in events:
        seen.clock(view.row.clock.next_due_at)
