"""Reading escalations: one, a queue, a history. Scoped to the caller's team when it has one.
Display reads: Core statements of data/reads.py, outside any transaction."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import NotFound
from common.listing import Page, Term
from services.escalation.data import reads
from services.escalation.data.reads import EscalationRecord, HistoryRecord
from services.escalation.service import access, journal
from services.escalation.service.context import EscalationContext


@dataclass(frozen=True)
class Queue:
    escalations: list[journal.EscalationView]
    # The feed position, as the caller sees the feed, before the list was read: watching from it
    # misses nothing.
    watch_cursor: int


async def _visible(session, escalation_id: str) -> EscalationRecord:
    record = await reads.escalation(session, escalation_id)
    if record is None:
        raise NotFound(
            f"escalation {escalation_id} does not exist", metadata={"resource": "escalation"}
        )
    access.check_visible(record.team, f"escalation {escalation_id}")
    return record


async def get_escalation(ctx: EscalationContext, escalation_id: str) -> journal.EscalationView:
    async with ctx.db.reading() as session:
        record = await _visible(session, escalation_id)
        return await journal.view_of_record(session, ctx, record, ctx.clock.now())


async def list_escalations(ctx: EscalationContext, terms: list[Term], order, page: Page) -> Queue:
    asked = next((t.value for t in terms if t.field == "team" and t.op == "="), None)
    team = access.visible_team(asked)
    now = ctx.clock.now()
    async with ctx.db.reading() as session:
        cursor = await reads.last_sequence(session, access.own_team())  # first: see Queue
        records = await reads.list_escalations(session, terms, order, page, team, now)
        views = [await journal.view_of_record(session, ctx, r, now) for r in records]
    return Queue(views, cursor)


async def history(ctx: EscalationContext, escalation_id: str, page: Page) -> list[HistoryRecord]:
    async with ctx.db.reading() as session:
        await _visible(session, escalation_id)
        return await reads.history(session, escalation_id, page)
