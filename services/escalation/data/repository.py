"""The unit of work's queries: one escalation, rule or subscription at a time (ORM rows, locked
when a command changes them), and the sweeper's claim of due clocks. A missing row is NotFound
here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import NotFound
from services.escalation.data.models import (
    DeliveryRow,
    EscalationRow,
    OlaTargetRow,
    ResponseClockRow,
    RoutingRuleRow,
    SubscriptionRow,
)


async def get_escalation(
    session: AsyncSession, escalation_id: str, for_update: bool = False
) -> EscalationRow:
    stmt = select(EscalationRow).where(EscalationRow.id == escalation_id)
    if for_update:  # locks the clock row too (joined): the sweeper skips it meanwhile
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(
            f"escalation {escalation_id} does not exist", metadata={"resource": "escalation"}
        )
    return row


async def get_rule(session: AsyncSession, rule_id: str, for_update: bool = False) -> RoutingRuleRow:
    stmt = select(RoutingRuleRow).where(RoutingRuleRow.id == rule_id)
    row = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None:
        raise NotFound(
            f"routing rule {rule_id} does not exist", metadata={"resource": "routing rule"}
        )
    return row


async def ola_target_minutes(session: AsyncSession, team: str, severity: int) -> int | None:
    """The team's target for this severity, else its default (severity 0)."""
    rows = await session.execute(
        select(OlaTargetRow.severity, OlaTargetRow.target_minutes).where(
            OlaTargetRow.team == team, OlaTargetRow.severity.in_((0, severity))
        )
    )
    found = dict(rows.all())
    return found.get(severity, found.get(0))


async def get_subscription(session: AsyncSession, subscription_id: str) -> SubscriptionRow:
    row = await session.get(SubscriptionRow, subscription_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(
            f"subscription {subscription_id} does not exist", metadata={"resource": "subscription"}
        )
    return row


async def fail_pending_deliveries(session: AsyncSession, subscription_id: str) -> None:
    """Nothing will ever be sent to a deleted subscription: its pending deliveries say so."""
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.subscription_id == subscription_id, DeliveryRow.state == "PENDING")
        .values(state="FAILED", last_error="subscription deleted")
    )


async def due_clocks(session: AsyncSession, now: datetime, limit: int) -> list[ResponseClockRow]:
    """Clocks with a milestone due, locked; rows another sweeper holds are skipped (not awaited)."""
    stmt = (
        select(ResponseClockRow)
        .where(ResponseClockRow.next_due_at <= now)
        .order_by(ResponseClockRow.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars().all())


async def earliest_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(ResponseClockRow.next_due_at)))
