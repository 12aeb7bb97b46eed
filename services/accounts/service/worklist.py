"""The worklist: rank the customers in a caller's scope by the active (or a simulated) strategy,
explain a customer's absence, store strategy versions, and (re)assign customers."""

from __future__ import annotations

from dataclasses import dataclass

from common.actor import current_actor
from common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from common.listing import Page
from services.accounts.data import repository as repo
from services.accounts.data import rows, worklist_rank, worklist_reads
from services.accounts.data.collections_models import (
    AssignmentRow,
    WorklistRuleRow,
    WorklistStrategyRow,
)
from services.accounts.domain import worklist
from services.accounts.domain.worklist import CustomerFacts, Rule, Strategy, WorklistItem
from services.accounts.service.collector_scope import TEAM_LEAD, worklist_scope
from services.accounts.service.context import AccountsContext
from services.accounts.service.promised import promised_on


@dataclass(frozen=True)
class Worklist:
    items: list[WorklistItem]  # the page asked for, ranked
    on_list: int  # on the whole list
    done_today: int
    strategy_version: int


async def _placed(conn, promising: list[tuple[str, str]]) -> dict[str, int]:
    """Customer id -> what its open promises take out of its amount to collect, placed invoice
    by invoice (domain/collectible.py), so an item's amount is the sum of its invoices'."""
    placed = (await promised_on(conn, [customer for customer, _ in promising])).by_customer()
    return {customer: placed.get((customer, currency), 0) for customer, currency in promising}


async def _facts(conn, scope: str, value: str, today) -> list[CustomerFacts]:
    """The scope's facts with the open promises placed (`_placed`), for the decisions made in
    Python: one customer's explanation and every collector's day."""
    facts = await worklist_reads.facts(conn, scope, value, today)
    placed = await _placed(conn, [(f.customer_id, f.currency) for f in facts if f.promised_minor])
    return [
        f._replace(promised_minor=placed.get(f.customer_id, 0)) if f.promised_minor else f
        for f in facts
    ]


async def _rank(
    ctx: AccountsContext, scope: tuple[str, str], strategy: Strategy | None, page: Page
) -> Worklist:
    """Ranked by the database (data/worklist_rank.py), which returns only the page; its items
    are explained here by the same rules."""
    now, today = ctx.clock.now(), ctx.clock.today()
    async with ctx.db.reading_connection() as conn:
        if strategy is None:
            strategy = (await worklist_reads.strategy(conn, None)).strategy()
        placed = await _placed(conn, await worklist_rank.promising(conn, scope))
        ranked = await worklist_rank.page(
            conn, strategy.rules, scope, placed, now, today, page.offset, page.size
        )
    items = [worklist.ranked_item(f, strategy, now, today, points) for f, points in ranked.items]
    return Worklist(items, ranked.on_list, ranked.done_today, strategy.version)


async def collectors_day(ctx: AccountsContext) -> dict[str, worklist.CollectorDay]:
    """Every collector's list today: how many to contact and how many done (for the gauges)."""
    now, today = ctx.clock.now(), ctx.clock.today()
    async with ctx.db.reading_connection() as conn:
        facts = await _facts(conn, "all", "", today)
    return worklist.day_by_collector(facts, now, today)


async def list_worklist(ctx: AccountsContext, collector: str, team: str, page: Page) -> Worklist:
    return await _rank(ctx, worklist_scope(current_actor(), collector, team), None, page)


async def simulate(
    ctx: AccountsContext,
    collector: str,
    team: str,
    version: int,
    rules: tuple[Rule, ...],
    page: Page,
) -> Worklist:
    """Writes nothing: inline rules (version 0), or a stored version."""
    scope = worklist_scope(current_actor(), collector, team)
    if rules:
        return await _rank(ctx, scope, Strategy(0, rules), page)
    async with ctx.db.reading_connection() as conn:
        stored = (await worklist_reads.strategy(conn, version or None)).strategy()
    return await _rank(ctx, scope, stored, page)


async def explain(
    ctx: AccountsContext, customer_id: str, collector: str
) -> tuple[list[str], WorklistItem | None]:
    collector = collector or worklist_scope(current_actor(), "", "")[1]
    now, today = ctx.clock.now(), ctx.clock.today()
    async with ctx.db.reading_connection() as conn:
        await worklist_reads.customer_exists(conn, customer_id)
        assigned = await worklist_reads.assigned_to(conn, customer_id)
        found = await _facts(conn, "customer", customer_id, today)
        strategy = (await worklist_reads.strategy(conn, None)).strategy()
    facts = found[0] if found else None
    return worklist.explain(facts, assigned, collector, strategy, now, today)


async def get_strategy(ctx: AccountsContext, version: int | None) -> worklist_reads.StrategyRead:
    async with ctx.db.reading_connection() as conn:
        return await worklist_reads.strategy(conn, version)


async def create_strategy(
    ctx: AccountsContext, display_name: str, rules: tuple[Rule, ...]
) -> WorklistStrategyRow:
    """The next version, active from now; the previous one stays stored (and simulable)."""
    actor = current_actor()
    async with ctx.db.transaction() as session:
        for active in await repo.strategies_active(session):
            active.active = False
        version = await repo.last_strategy_version(session) + 1
        row = WorklistStrategyRow(
            version=version,
            display_name=display_name,
            active=True,
            created_at=ctx.clock.now(),
            created_by=actor.subject,
            rules=[
                WorklistRuleRow(**rows.worklist_rule(version, i, rule))
                for i, rule in enumerate(rules)
            ],
        )
        session.add(row)
        return row


async def reassign(
    ctx: AccountsContext, customer_ids: list[str], from_collector: str, collector: str, team: str
) -> int:
    """Assign the listed customers (or all of `from_collector`'s) to `collector` and `team`
    (default: the team lead's own). A team lead with a team moves only that team's customers."""
    actor = current_actor()
    if not actor.has_role(TEAM_LEAD):
        raise PermissionDenied("only team leads reassign customers")
    if not customer_ids and not from_collector:
        raise InvalidArgument.of("customers", "name customers, or a from_collector")
    team = team or actor.team
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        if customer_ids:
            missing = set(customer_ids) - await repo.existing_customers(session, customer_ids)
            if missing:
                raise InvalidArgument.of("customers", f"{len(missing)} customer(s) do not exist")
        current = {
            a.customer_id: a
            for a in await repo.assignments_of(session, customer_ids, from_collector)
        }
        if actor.team and any(a.team and a.team != actor.team for a in current.values()):
            raise FailedPrecondition(
                "some customers are worked by another team", reason="OTHER_TEAM"
            )
        for customer_id in customer_ids or sorted(current):
            assignment = current.get(customer_id)
            if assignment is None:
                session.add(
                    AssignmentRow(
                        **rows.assignment(customer_id, collector, team, actor.subject, now)
                    )
                )
            else:
                assignment.collector, assignment.team = collector, team
                assignment.updated_at, assignment.updated_by = now, actor.subject
        return len(customer_ids or current)
