"""The raise batch's set-based statements: the open escalations of many (subject, team) pairs,
locked; escalations by id (replays); multi-row inserts of new escalations, clocks, history and
outbox events."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import AlreadyExists
from services.escalation.data import rows
from services.escalation.data.models import (
    EscalationRow,
    HistoryRow,
    OutboxEventRow,
    ResponseClockRow,
)

# Built once: SQLAlchemy then reuses their compiled form.
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
_INSERT_ESCALATIONS = insert(EscalationRow.__table__)
_INSERT_CLOCKS = insert(ResponseClockRow.__table__)
_INSERT_HISTORY = insert(HistoryRow.__table__)
_INSERT_OUTBOX = insert(OutboxEventRow.__table__)


async def open_escalations(
    session: AsyncSession, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], EscalationRow]:
    """The open escalation of each (subject, team), locked with its clock."""
    if not pairs:
        return {}
    found = (await session.execute(_OPEN_ESCALATIONS, {"pairs": pairs})).unique().scalars()
    return {(row.subject, row.team): row for row in found}


async def escalations_by_id(session: AsyncSession, ids: list[str]) -> dict[str, EscalationRow]:
    if not ids:
        return {}
    found = (await session.execute(_ESCALATIONS_BY_ID, {"ids": ids})).unique().scalars()
    return {row.id: row for row in found}


async def insert_escalations(session: AsyncSession, created: list[rows.Draft]) -> None:
    """New escalations and their clocks (rows.new_escalation's drafts), one INSERT per table.
    AlreadyExists when a concurrent batch opened one for the same subject and team first (the
    open-escalation unique index): the transaction is spent, the batch runs again."""
    if created:
        try:
            await session.execute(
                _INSERT_ESCALATIONS, [rows.columns(r, rows.ESCALATION_COLUMNS) for r in created]
            )
        except IntegrityError as taken:
            raise AlreadyExists("an escalation of this batch is already open") from taken
        await session.execute(
            _INSERT_CLOCKS, [rows.columns(r.clock, rows.CLOCK_COLUMNS) for r in created]
        )


async def insert_history(session: AsyncSession, entries: list[dict]) -> None:
    """History entries built by rows.history."""
    if entries:
        await session.execute(_INSERT_HISTORY, entries)


async def insert_outbox(session: AsyncSession, events: list[dict]) -> None:
    """Outbox events built by Outbox.row (the batch's RecordEscalation events)."""
    if events:
        await session.execute(_INSERT_OUTBOX, events)
