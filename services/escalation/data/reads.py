"""Display reads: lists, histories, the feed after a cursor, gauges. Values bound, no locks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.query import apply_filter, apply_order_and_page
from common.listing import Page, Term
from services.escalation.data.feed import EVENTS_COUNTER
from services.escalation.data.models import (
    DeliveryRow,
    EscalationRow,
    EventRow,
    HistoryRow,
    SequenceCounterRow,
    SubscriptionRow,
)

ESCALATION_COLUMNS = {
    "team": EscalationRow.team,
    "state": EscalationRow.state,
    "severity": EscalationRow.severity,
    "subject": EscalationRow.subject,
    "reason_code": EscalationRow.reason_code,
    "assignee": EscalationRow.assignee,
    "create_time": EscalationRow.created_at,
    "update_time": EscalationRow.updated_at,
    "due_time": EscalationRow.response_due_at,
}
DELIVERY_COLUMNS = {"state": DeliveryRow.state, "event_type": DeliveryRow.event_type}
# age_days >= 3 means created at least 3 days ago: the comparison flips onto create_time.
_AGE_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _age_terms(terms: list[Term], now: datetime) -> list[Term]:
    return [
        Term("create_time", _AGE_FLIP[t.op], now - timedelta(days=t.value))
        if t.field == "age_days"
        else t
        for t in terms
    ]


async def list_escalations(
    session: AsyncSession, terms: list[Term], order, page: Page, team: str | None, now: datetime
) -> list[EscalationRow]:
    stmt = select(EscalationRow)
    if team is not None:
        stmt = stmt.where(EscalationRow.team == team)
    stmt = apply_filter(stmt, _age_terms(terms, now), ESCALATION_COLUMNS)
    stmt = apply_order_and_page(stmt, order, ESCALATION_COLUMNS, EscalationRow.id, page)
    return list((await session.execute(stmt)).unique().scalars().all())


async def history(session: AsyncSession, escalation_id: str, page: Page) -> list[HistoryRow]:
    stmt = (
        select(HistoryRow)
        .where(HistoryRow.escalation_id == escalation_id)
        .order_by(HistoryRow.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return list((await session.execute(stmt)).scalars().all())


_LAST_SEQUENCE = select(SequenceCounterRow.value).where(SequenceCounterRow.name == EVENTS_COUNTER)
_LAST_TEAM_SEQUENCE = select(func.max(EventRow.sequence)).where(EventRow.team == bindparam("team"))


async def last_sequence(session: AsyncSession, team: str | None = None) -> int:
    """The feed position a watcher of `team` (None: every team) is at: the last event it could
    have seen, so a team's position does not move with other teams' work."""
    if team is None:
        value = await session.scalar(_LAST_SEQUENCE)
    else:
        value = await session.scalar(_LAST_TEAM_SEQUENCE, {"team": team})
    return int(value or 0)


async def events_after(
    session: AsyncSession, after: int, team: str | None, limit: int
) -> list[EventRow]:
    stmt = select(EventRow).where(EventRow.sequence > after)
    if team is not None:
        stmt = stmt.where(EventRow.team == team)
    stmt = stmt.order_by(EventRow.sequence).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def list_subscriptions(session: AsyncSession, team: str | None, page: Page):
    stmt = select(SubscriptionRow).where(SubscriptionRow.deleted_at.is_(None))
    if team is not None:
        stmt = stmt.where(SubscriptionRow.team == team)
    stmt = stmt.order_by(SubscriptionRow.created_at, SubscriptionRow.id)
    return list((await session.execute(stmt.offset(page.offset).limit(page.size))).scalars().all())


async def list_deliveries(session: AsyncSession, subscription_id: str, terms, page: Page):
    stmt = select(DeliveryRow).where(DeliveryRow.subscription_id == subscription_id)
    stmt = apply_filter(stmt, terms, DELIVERY_COLUMNS)
    stmt = stmt.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id.desc())
    return list((await session.execute(stmt.offset(page.offset).limit(page.size))).scalars().all())


async def count_open(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(EscalationRow.team, EscalationRow.state, func.count())
        .where(EscalationRow.state.not_in(("RESOLVED", "HANDED_BACK")))
        .group_by(EscalationRow.team, EscalationRow.state)
    )
    return {(team, state): n for team, state, n in rows.all()}
