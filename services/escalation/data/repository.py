"""Queries of the escalation service. Rows in, rows out; a missing row is NotFound here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.query import apply_filter, apply_order_and_page
from common.errors import NotFound
from common.listing import Page, Term
from services.escalation.data.models import (
    DeliveryRow,
    EscalationRow,
    EventRow,
    HistoryRow,
    IdempotencyKeyRow,
    OlaTargetRow,
    ResponseClockRow,
    RoutingRuleRow,
    SequenceCounterRow,
    SubscriptionRow,
)

EVENTS_COUNTER = "escalation_events"
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


# Statements run by every raise, built once (SQLAlchemy then reuses their compiled form).
_OPEN_ESCALATIONS = (
    select(EscalationRow)
    .where(
        tuple_(EscalationRow.subject, EscalationRow.team).in_(bindparam("pairs", expanding=True)),
        EscalationRow.state.not_in(("RESOLVED", "HANDED_BACK")),
    )
    .order_by(EscalationRow.id)  # one lock order for every batch: no deadlock between two
    .with_for_update()
)
_ESCALATIONS_BY_ID = select(EscalationRow).where(
    EscalationRow.id.in_(bindparam("ids", expanding=True))
)
_IDEMPOTENCY_KEYS = select(
    IdempotencyKeyRow.key, IdempotencyKeyRow.fingerprint, IdempotencyKeyRow.resource_id
).where(
    IdempotencyKeyRow.scope == bindparam("scope"),
    IdempotencyKeyRow.key.in_(bindparam("keys", expanding=True)),
)
_LIVE_SUBSCRIBERS = select(SubscriptionRow.team, SubscriptionRow.id).where(
    SubscriptionRow.team.in_(bindparam("teams", expanding=True)),
    SubscriptionRow.deleted_at.is_(None),
)
# Core inserts of many rows at once (executemany), without the unit of work.
INSERT_ESCALATIONS = insert(EscalationRow.__table__)
INSERT_CLOCKS = insert(ResponseClockRow.__table__)
INSERT_HISTORY = insert(HistoryRow.__table__)
INSERT_EVENTS = insert(EventRow.__table__)
INSERT_DELIVERIES = insert(DeliveryRow.__table__)
INSERT_IDEMPOTENCY_KEYS = insert(IdempotencyKeyRow.__table__)


async def open_escalations(
    session: AsyncSession, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], EscalationRow]:
    """The open escalation of each (subject, team), locked with its clock."""
    if not pairs:
        return {}
    rows = (await session.execute(_OPEN_ESCALATIONS, {"pairs": pairs})).unique().scalars()
    return {(row.subject, row.team): row for row in rows}


async def escalations_by_id(session: AsyncSession, ids: list[str]) -> dict[str, EscalationRow]:
    if not ids:
        return {}
    rows = (await session.execute(_ESCALATIONS_BY_ID, {"ids": ids})).unique().scalars()
    return {row.id: row for row in rows}


async def idempotency_keys(
    session: AsyncSession, scope: str, keys: list[str]
) -> dict[str, tuple[str, str | None]]:
    """key -> (fingerprint, resource id) of the keys already used in `scope`."""
    if not keys:
        return {}
    rows = await session.execute(_IDEMPOTENCY_KEYS, {"scope": scope, "keys": keys})
    return {key: (fingerprint, resource_id) for key, fingerprint, resource_id in rows}


async def live_subscribers(session: AsyncSession, teams: list[str]) -> dict[str, list[str]]:
    """team -> ids of its live subscriptions."""
    found: dict[str, list[str]] = {}
    for team, subscription_id in await session.execute(_LIVE_SUBSCRIBERS, {"teams": teams}):
        found.setdefault(team, []).append(subscription_id)
    return found


async def insert_rows(session: AsyncSession, statement, rows: list[dict]) -> None:
    if rows:
        await session.execute(statement, rows)


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


async def rules(session: AsyncSession, *, active_only: bool, page: Page | None = None):
    stmt = select(RoutingRuleRow).order_by(RoutingRuleRow.priority, RoutingRuleRow.id)
    if active_only:
        stmt = stmt.where(RoutingRuleRow.active.is_(True))
    if page is not None:
        stmt = stmt.offset(page.offset).limit(page.size)
    return list((await session.execute(stmt)).scalars().all())


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


async def last_sequence(session: AsyncSession) -> int:
    value = await session.scalar(
        select(SequenceCounterRow.value).where(SequenceCounterRow.name == EVENTS_COUNTER)
    )
    return int(value or 0)


async def events_after(
    session: AsyncSession, after: int, team: str | None, limit: int
) -> list[EventRow]:
    stmt = select(EventRow).where(EventRow.sequence > after)
    if team is not None:
        stmt = stmt.where(EventRow.team == team)
    stmt = stmt.order_by(EventRow.sequence).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def get_subscription(session: AsyncSession, subscription_id: str) -> SubscriptionRow:
    row = await session.get(SubscriptionRow, subscription_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(
            f"subscription {subscription_id} does not exist", metadata={"resource": "subscription"}
        )
    return row


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
