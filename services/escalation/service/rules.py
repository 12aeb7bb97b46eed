"""Routing rules as data: list, create, update (deactivate; rules are never deleted)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import InvalidArgument
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page
from common.money import Money
from services.escalation.data import reads
from services.escalation.data import repository as repo
from services.escalation.data.models import RoutingRuleRow
from services.escalation.data.reads import RoutingRuleRecord
from services.escalation.domain.commands import RULE_FIELDS, RuleData
from services.escalation.domain.routing import Rule
from services.escalation.domain.values import Severity, Team
from services.escalation.service.access import check_rule_admin
from services.escalation.service.context import EscalationContext


def to_rule(row: RoutingRuleRecord) -> Rule:
    amount = None
    if row.min_amount_minor is not None and row.min_amount_currency:
        amount = Money(row.min_amount_minor, row.min_amount_currency)
    return Rule(
        id=row.id,
        priority=row.priority,
        team=Team(row.team),
        severity=Severity(row.severity),
        reason_code=row.reason_code,
        root_cause=row.root_cause,
        dispute_reason=row.dispute_reason,
        min_amount=amount,
        customer_flag=row.customer_flag,
    )


async def active_rules(ctx: EscalationContext, session: AsyncSession) -> tuple[Rule, ...]:
    """The active rules in routing order, re-read at most every REFERENCE_TTL_S of
    common/reference.py (this process's rule changes clear them at once)."""

    async def load() -> tuple[Rule, ...]:
        return tuple(to_rule(r) for r in await reads.active_routing_rules(session))

    return await ctx.reference.get("routing_rules", load)


def _apply(row: RoutingRuleRow, data: RuleData, fields: tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(data, name)
        if name == "min_amount":
            row.min_amount_minor = value.minor if value else None
            row.min_amount_currency = value.currency if value else None
        elif name == "team":
            row.team = value.value
        elif name == "severity":
            row.severity = int(value)
        else:
            setattr(row, name, value)


def _require_decision(data: RuleData, fields: tuple[str, ...]) -> None:
    for name in ("team", "severity"):
        if name in fields and getattr(data, name) is None:
            raise InvalidArgument.of(f"routing_rule.{name}", "is required")


async def list_rules(
    ctx: EscalationContext, show_inactive: bool, page: Page
) -> list[RoutingRuleRecord]:
    async with ctx.db.reading() as session:
        return await reads.routing_rules(session, active_only=not show_inactive, page=page)


async def create_rule(
    ctx: EscalationContext, data: RuleData, request: RequestKey
) -> RoutingRuleRecord:
    check_rule_admin()
    _require_decision(data, RULE_FIELDS)

    async def create(session):
        now = ctx.clock.now()
        row = RoutingRuleRow(id=new_id(), version=1, created_at=now, updated_at=now)
        _apply(row, data, RULE_FIELDS)
        session.add(row)
        return row.id, row

    async def replay(session, rule_id):
        return await repo.get_rule(session, rule_id)

    row = await run_once(ctx.db, ctx.idempotency, "CreateRoutingRule", request, create, replay)
    ctx.reference.forget()  # committed: the next raise routes with it
    return reads.routing_rule_record(row)


async def update_rule(
    ctx: EscalationContext, rule_id: str, etag: str, data: RuleData, fields: tuple[str, ...]
) -> RoutingRuleRecord:
    check_rule_admin()
    _require_decision(data, fields)
    async with ctx.db.transaction() as session:
        row = await repo.get_rule(session, rule_id, for_update=True)
        check_etag(etag, row.id, row.version)
        _apply(row, data, fields)
        row.version += 1
        row.updated_at = ctx.clock.now()
    ctx.reference.forget()  # committed: the next raise routes with it
    return reads.routing_rule_record(row)
