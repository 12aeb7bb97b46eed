"""Every change leaves two traces: a history entry (the audit of one escalation) and, when others
must hear of it, an event in the feed that watch streams and webhooks deliver.

Events get their sequence from a counter row updated in the same transaction. The row lock is
held until commit, so sequences become visible in order: a watcher that has seen sequence n can
never later find an n-1 committed behind its back. Publishing is the last step of a use case,
which keeps that lock short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.sla import BusinessCalendar
from services.escalation.data import feed, rows
from services.escalation.data.models import EscalationRow, HistoryRow
from services.escalation.data.reads import EscalationRecord, escalation_record
from services.escalation.service import clocks
from services.escalation.service.context import EscalationContext, Touched


@dataclass(frozen=True)
class EscalationView:
    """An escalation as shown to callers: as it stood (a record, not the live row: a later change
    in the same transaction does not alter an answer or event already made) and its clock as of a
    moment."""

    row: EscalationRecord
    clock: clocks.ClockView


async def view_of(
    session: AsyncSession,
    ctx: EscalationContext,
    row: EscalationRow,
    now: datetime,
    cal: BusinessCalendar | None = None,
) -> EscalationView:
    """A command's escalation as it stands now."""
    return await view_of_record(session, ctx, escalation_record(row), now, cal)


async def view_of_record(
    session: AsyncSession,
    ctx: EscalationContext,
    record: EscalationRecord,
    now: datetime,
    cal: BusinessCalendar | None = None,
) -> EscalationView:
    cal = cal or await ctx.calendars.for_team(session, record.clock.team)
    return EscalationView(record, clocks.view(record, cal, now))


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
    """A history entry through the unit of work."""
    add_history(
        session, [rows.history(row, action, actor, at, from_state=from_state, details=details)]
    )


def add_history(session: AsyncSession, entries: list[dict]) -> None:
    """History entries built by rows.history (e.g. milestones.fire_due's), through the unit of
    work."""
    session.add_all(HistoryRow(**entry) for entry in entries)


async def publish(
    session: AsyncSession,
    ctx: EscalationContext,
    events: Sequence[tuple[str, EscalationView]],
    at: datetime,
) -> Touched:
    """Appends events to the feed and a pending delivery per live subscription of their team:
    three or four statements however many events. Returns what the caller's commit will have
    touched, for ctx.signals.changed."""
    touched = Touched()
    if not events:
        return touched
    await session.flush()  # rows the events point at exist before the counter is locked
    last = await feed.next_sequences(session, len(events))
    first = last - len(events) + 1
    appended = [
        rows.event(
            first + offset,
            view.row,
            event_type,
            at,
            ctx.render_event(event_type, first + offset, at, view),
        )
        for offset, (event_type, view) in enumerate(events)
    ]
    await feed.insert_events(session, appended)
    subscribers = await feed.live_subscribers(session, sorted({e["team"] for e in appended}))
    deliveries = [
        rows.delivery(subscription_id, event, at)
        for event in appended
        for subscription_id in subscribers.get(event["team"], ())
    ]
    await feed.insert_deliveries(session, deliveries)
    touched.deliveries = len(deliveries)
    for _, view in events:
        touched.clock(view.row.clock.next_due_at)
    return touched
