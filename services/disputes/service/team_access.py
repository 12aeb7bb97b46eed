"""Team isolation of cases: a Sales, GBS or Legal user (common/team_scope.py) sees and works only
the cases escalated to their team; any other case answers NOT_FOUND, exactly as a missing one
(permission before existence: nothing leaks). The rule lives here and only here: every use case that
changes one case for a person loads it with `visible_case`; reads for display (GetDispute,
ListDisputes) are scoped by `visible_cases()` inside their one statement (`read_case` for one case).

A case is escalated to a team when the escalation service creates an escalation for it
(`RecordEscalation`, through its outbox: service/escalation_records.py) or, at once, when this
service's `:escalate` names the team. The team keeps the case for good: its answer or a later
escalation elsewhere does not take it away (its people still need to read what they answered)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.actor import current_actor
from common.team_scope import team_scope
from services.disputes.data import repository as repo
from services.disputes.data.models import DisputeRow
from services.disputes.data.reads import Record
from services.disputes.data.rows import team_row


async def visible_case(
    session: AsyncSession, dispute_id: str, *, lock: bool = False, options=repo.FULL
) -> DisputeRow:
    """The case, if the caller may see it; otherwise the very NotFound of a missing case. The team
    is checked before the case is read, so no later error (etag, state) can tell them apart."""
    team = team_scope(current_actor())
    if team is not None and not await _escalated(session, dispute_id, team):
        raise repo.missing_dispute(dispute_id)
    return await repo.get_dispute(session, dispute_id, lock=lock, options=options)


async def _escalated(session: AsyncSession, dispute_id: str, team: str) -> bool:
    return bool(team) and await repo.dispute_team(session, dispute_id, team) is not None


def visible_cases() -> str | None:
    """The team whose cases the caller may read (repo.escalated_to), None for every case. A team
    scope with no team ("") sees no case at all."""
    return team_scope(current_actor())


async def read_case(conn: AsyncConnection, dispute_id: str) -> Record:
    """A case for display, if the caller may see it; otherwise the NotFound of a missing case
    (the team is a condition of the case's own read: nothing tells the two apart)."""
    return await repo.read_dispute(conn, dispute_id, team=visible_cases())


async def grant(
    session: AsyncSession, case: DisputeRow, team: str, escalation: str, now: datetime
) -> bool:
    """Records that `team` works on `case` (call it with the case locked: two grants of the same
    team then cannot race). False when the team already had the case."""
    row = await repo.dispute_team(session, case.id, team)
    if row is not None:
        if escalation and not row.escalation:  # granted by :escalate, now the escalation is known
            row.escalation = escalation
        return False
    session.add(team_row(case.id, team, escalation, now))
    return True
