"""Reading escalations: one, a queue, a history. Scoped to the caller's team when it has one."""

from __future__ import annotations

from dataclasses import dataclass

from common.listing import Page, Term
from services.escalation.data import reads
from services.escalation.data import repository as repo
from services.escalation.data.models import HistoryRow
from services.escalation.service import access, journal
from services.escalation.service.context import EscalationContext


@dataclass(frozen=True)
class Queue:
    escalations: list[journal.EscalationView]
    # The feed position, as the caller sees the feed, before the list was read: watching from it
    # misses nothing.
    watch_cursor: int


async def get_escalation(ctx: EscalationContext, escalation_id: str) -> journal.EscalationView:
    async with ctx.db.transaction() as session:
        row = await repo.get_escalation(session, escalation_id)
        access.check_visible(row.team, f"escalation {escalation_id}")
        return await journal.view_of(session, ctx, row, ctx.clock.now())


async def list_escalations(ctx: EscalationContext, terms: list[Term], order, page: Page) -> Queue:
    asked = next((t.value for t in terms if t.field == "team" and t.op == "="), None)
    team = access.visible_team(asked)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        cursor = await reads.last_sequence(session, access.own_team())
        rows = await reads.list_escalations(session, terms, order, page, team, now)
        views = [await journal.view_of(session, ctx, row, now) for row in rows]
    return Queue(views, cursor)


async def history(ctx: EscalationContext, escalation_id: str, page: Page) -> list[HistoryRow]:
    async with ctx.db.transaction() as session:
        row = await repo.get_escalation(session, escalation_id)
        access.check_visible(row.team, f"escalation {escalation_id}")
        return await reads.history(session, escalation_id, page)
