"""Display reads: an escalation, a queue, a history, the feed after a cursor, subscriptions and
their deliveries, gauges. Each is a Core statement built once with bound values, run without
locks, and returns one record type declared beside it; api/convert.py turns records into
protobuf. The unit of work's rows become the same records (escalation_record, ...), so a
command's answer and a read's are converted by one function."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

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
    ResponseClockRow,
    RoutingRuleRow,
    SequenceCounterRow,
    SubscriptionRow,
)


# --- escalations ------------------------------------------------------------------------------
class ClockRecord(NamedTuple):
    """An escalation's OLA clock (the columns of response_clocks that describe it)."""

    team: str
    target_minutes: int
    status: str
    started_at: datetime
    spent_before_us: int
    running_since: datetime | None
    paused_total_us: int
    paused_since: datetime | None
    pause_reason: str | None
    stopped_at: datetime | None
    fired: str
    next_due_at: datetime | None


class EscalationRecord(NamedTuple):
    """An escalation as it stood when read (or when a command changed it), with its clock."""

    id: str
    subject: str
    team: str
    reason_code: str
    severity: int
    summary: str
    amount_minor: int | None
    amount_currency: str | None
    raised_by: str
    trigger_event_id: str
    attributes: str
    state: str
    assignee: str
    info_request: str
    info_response: str
    outcome_code: str
    note: str
    evidence_links: str
    answered_by: str
    routing_rule_id: str | None
    origin_traceparent: str | None
    response_due_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    clock: ClockRecord


_ESCALATION_FIELDS = EscalationRecord._fields[:-1]
_CLOCK_COLUMNS = [getattr(ResponseClockRow, f).label(f"clock_{f}") for f in ClockRecord._fields]
_ESCALATIONS = select(
    *(getattr(EscalationRow, f) for f in _ESCALATION_FIELDS), *_CLOCK_COLUMNS
).join_from(EscalationRow, ResponseClockRow, ResponseClockRow.escalation_id == EscalationRow.id)
_ESCALATION = _ESCALATIONS.where(EscalationRow.id == bindparam("id"))
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
# age_days >= 3 means created at least 3 days ago: the comparison flips onto create_time.
_AGE_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _escalation(found) -> EscalationRecord:
    values = found._mapping
    clock = ClockRecord(*(values[f"clock_{f}"] for f in ClockRecord._fields))
    return EscalationRecord(*(values[f] for f in _ESCALATION_FIELDS), clock=clock)


def escalation_record(row: EscalationRow) -> EscalationRecord:
    """What a command made of an escalation, as the record a read would return."""
    clock = ClockRecord(*(getattr(row.clock, f) for f in ClockRecord._fields))
    return EscalationRecord(*(getattr(row, f) for f in _ESCALATION_FIELDS), clock=clock)


async def escalation(session: AsyncSession, escalation_id: str) -> EscalationRecord | None:
    found = (await session.execute(_ESCALATION, {"id": escalation_id})).first()
    return None if found is None else _escalation(found)


def _age_terms(terms: list[Term], now: datetime) -> list[Term]:
    return [
        Term("create_time", _AGE_FLIP[t.op], now - timedelta(days=t.value))
        if t.field == "age_days"
        else t
        for t in terms
    ]


async def list_escalations(
    session: AsyncSession, terms: list[Term], order, page: Page, team: str | None, now: datetime
) -> list[EscalationRecord]:
    stmt = _ESCALATIONS
    if team is not None:
        stmt = stmt.where(EscalationRow.team == team)
    stmt = apply_filter(stmt, _age_terms(terms, now), ESCALATION_COLUMNS)
    stmt = apply_order_and_page(stmt, order, ESCALATION_COLUMNS, EscalationRow.id, page)
    return [_escalation(found) for found in await session.execute(stmt)]


# --- history ----------------------------------------------------------------------------------
class HistoryRecord(NamedTuple):
    action: str
    actor: str
    at: datetime
    from_state: str
    to_state: str
    version: int
    details: str  # JSON object of strings


_HISTORY = (
    select(*(getattr(HistoryRow, f) for f in HistoryRecord._fields))
    .where(HistoryRow.escalation_id == bindparam("escalation_id"))
    .order_by(HistoryRow.id)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)


async def history(session: AsyncSession, escalation_id: str, page: Page) -> list[HistoryRecord]:
    found = await session.execute(
        _HISTORY, {"escalation_id": escalation_id, "offset": page.offset, "limit": page.size}
    )
    return [HistoryRecord(*r) for r in found]


# --- the feed ---------------------------------------------------------------------------------
class EventRecord(NamedTuple):
    sequence: int
    body: bytes  # the event's JSON, as webhooks POST it


_LAST_SEQUENCE = select(SequenceCounterRow.value).where(SequenceCounterRow.name == EVENTS_COUNTER)
_LAST_TEAM_SEQUENCE = select(func.max(EventRow.sequence)).where(EventRow.team == bindparam("team"))
_EVENTS_AFTER = (
    select(EventRow.sequence, EventRow.body)
    .where(EventRow.sequence > bindparam("after"))
    .order_by(EventRow.sequence)
    .limit(bindparam("limit"))
)
_TEAM_EVENTS_AFTER = _EVENTS_AFTER.where(EventRow.team == bindparam("team"))


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
) -> list[EventRecord]:
    if team is None:
        found = await session.execute(_EVENTS_AFTER, {"after": after, "limit": limit})
    else:
        found = await session.execute(
            _TEAM_EVENTS_AFTER, {"after": after, "team": team, "limit": limit}
        )
    return [EventRecord(*r) for r in found]


# --- routing rules ---------------------------------------------------------------------------
class RoutingRuleRecord(NamedTuple):
    id: str
    description: str
    priority: int
    active: bool
    reason_code: str
    root_cause: str
    dispute_reason: str
    min_amount_minor: int | None
    min_amount_currency: str | None
    customer_flag: str
    team: str
    severity: int
    version: int
    created_at: datetime
    updated_at: datetime


# routing order: the first matching rule wins (domain/routing.py)
_RULES = select(*(getattr(RoutingRuleRow, f) for f in RoutingRuleRecord._fields)).order_by(
    RoutingRuleRow.priority, RoutingRuleRow.id
)
_ACTIVE_RULES = _RULES.where(RoutingRuleRow.active.is_(True))
_RULES_PAGE = {
    active_only: stmt.offset(bindparam("offset")).limit(bindparam("limit"))
    for active_only, stmt in ((False, _RULES), (True, _ACTIVE_RULES))
}


def routing_rule_record(row: RoutingRuleRow) -> RoutingRuleRecord:
    return RoutingRuleRecord(*(getattr(row, f) for f in RoutingRuleRecord._fields))


async def routing_rules(
    session: AsyncSession, active_only: bool, page: Page
) -> list[RoutingRuleRecord]:
    found = await session.execute(
        _RULES_PAGE[active_only], {"offset": page.offset, "limit": page.size}
    )
    return [RoutingRuleRecord(*r) for r in found]


async def active_routing_rules(session: AsyncSession) -> list[RoutingRuleRecord]:
    """Every active rule, in routing order (what a raise routes with)."""
    return [RoutingRuleRecord(*r) for r in await session.execute(_ACTIVE_RULES)]


# --- subscriptions and deliveries -------------------------------------------------------------
class SubscriptionRecord(NamedTuple):
    """A subscription as shown: never its secret."""

    id: str
    team: str
    endpoint_uri: str
    description: str
    created_by: str
    created_at: datetime


_SUBSCRIPTIONS = (
    select(*(getattr(SubscriptionRow, f) for f in SubscriptionRecord._fields))
    .where(SubscriptionRow.deleted_at.is_(None))
    .order_by(SubscriptionRow.created_at, SubscriptionRow.id)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_TEAM_SUBSCRIPTIONS = _SUBSCRIPTIONS.where(SubscriptionRow.team == bindparam("team"))


def subscription_record(row: SubscriptionRow) -> SubscriptionRecord:
    return SubscriptionRecord(*(getattr(row, f) for f in SubscriptionRecord._fields))


async def list_subscriptions(
    session: AsyncSession, team: str | None, page: Page
) -> list[SubscriptionRecord]:
    values: dict = {"offset": page.offset, "limit": page.size}
    if team is None:
        found = await session.execute(_SUBSCRIPTIONS, values)
    else:
        found = await session.execute(_TEAM_SUBSCRIPTIONS, {**values, "team": team})
    return [SubscriptionRecord(*r) for r in found]


class DeliveryRecord(NamedTuple):
    id: str
    subscription_id: str
    event_sequence: int
    event_type: str
    escalation_id: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


_DELIVERIES = select(*(getattr(DeliveryRow, f) for f in DeliveryRecord._fields)).where(
    DeliveryRow.subscription_id == bindparam("subscription_id")
)
DELIVERY_COLUMNS = {"state": DeliveryRow.state, "event_type": DeliveryRow.event_type}


def delivery_record(row: DeliveryRow) -> DeliveryRecord:
    return DeliveryRecord(*(getattr(row, f) for f in DeliveryRecord._fields))


async def list_deliveries(
    session: AsyncSession, subscription_id: str, terms: list[Term], page: Page
) -> list[DeliveryRecord]:
    stmt = apply_filter(_DELIVERIES, terms, DELIVERY_COLUMNS)
    stmt = stmt.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id.desc())
    found = await session.execute(
        stmt.offset(page.offset).limit(page.size), {"subscription_id": subscription_id}
    )
    return [DeliveryRecord(*r) for r in found]


# --- gauges -----------------------------------------------------------------------------------
_OPEN_COUNTS = (
    select(EscalationRow.team, EscalationRow.state, func.count())
    .where(EscalationRow.state.not_in(("RESOLVED", "HANDED_BACK")))
    .group_by(EscalationRow.team, EscalationRow.state)
)


async def count_open(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(team, state) -> open escalations."""
    return {(team, state): n for team, state, n in await session.execute(_OPEN_COUNTS)}
