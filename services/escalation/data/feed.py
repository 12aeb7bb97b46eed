"""Writing the event feed: sequences from a counter row, the events, and a pending delivery per
live subscription of their team, as multi-row inserts (a batch of raises publishes once)."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.escalation.data.models import (
    DeliveryRow,
    EventRow,
    SequenceCounterRow,
    SubscriptionRow,
)

EVENTS_COUNTER = "escalation_events"
# Built once: SQLAlchemy then reuses their compiled form.
_LIVE_SUBSCRIBERS = select(SubscriptionRow.team, SubscriptionRow.id).where(
    SubscriptionRow.team.in_(bindparam("teams", expanding=True)),
    SubscriptionRow.deleted_at.is_(None),
)
_INSERT_EVENTS = insert(EventRow.__table__)
_INSERT_DELIVERIES = insert(DeliveryRow.__table__)


async def next_sequences(session: AsyncSession, count: int) -> int:
    """Reserves `count` event sequences; returns the last. The counter row stays locked until
    commit, so a later sequence can never become visible before an earlier one."""
    result = await session.execute(
        update(SequenceCounterRow)
        .where(SequenceCounterRow.name == EVENTS_COUNTER)
        .values(value=SequenceCounterRow.value + count)
        .returning(SequenceCounterRow.value)
    )
    return int(result.scalar_one())


async def live_subscribers(session: AsyncSession, teams: list[str]) -> dict[str, list[str]]:
    """team -> ids of its live subscriptions."""
    found: dict[str, list[str]] = {}
    for team, subscription_id in await session.execute(_LIVE_SUBSCRIBERS, {"teams": teams}):
        found.setdefault(team, []).append(subscription_id)
    return found


async def insert_events(session: AsyncSession, events: list[dict]) -> None:
    """Events (rows.event) before their deliveries, which point at them."""
    if events:
        await session.execute(_INSERT_EVENTS, events)


async def insert_deliveries(session: AsyncSession, deliveries: list[dict]) -> None:
    if deliveries:
        await session.execute(_INSERT_DELIVERIES, deliveries)
