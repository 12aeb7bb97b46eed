"""Team isolation of cases: a Sales, GBS or Legal user (common/team_scope.py) sees and works only
the cases escalated to their team; any other case answers NOT_FOUND, exactly as a missing one
(permission before existence: nothing leaks). The rule lives here and only here: every use case
that changes one case loads it with `visible_case`; reads for display (GetDispute, ListDisputes) are
scoped by `visible_cases()` inside their one statement (`read_case` for one case).

A case is escalated to a team when the escalation service creates an escalation for it
(`RecordEscalation`, through its outbox) or, at once, when this service's `:escalate` names the
team. The team keeps the case for good: its answer or a later escalation elsewhere does not take
it away (its people still need to read what they answered)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.actor import current_actor
from common.errors import PermissionDenied
from common.idempotency import RequestKey, run_once
from common.team_scope import team_scope
from services.disputes.data import repository as repo
from services.disputes.data.models import DisputeRow, DisputeTeamRow
from services.disputes.data.reads import Record
from services.disputes.service import history
from services.disputes.service.context import DisputesContext

SCOPE = "RecordEscalation"


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
    session.add(
        DisputeTeamRow(dispute_id=case.id, team=team, escalation=escalation, created_at=now)
    )
    return True


async def record_escalation(
    ctx: DisputesContext, dispute_id: str, escalation: str, team: str, request: RequestKey
) -> tuple[str, int]:
    """RecordEscalation (the escalation service's outbox), applied once per event id; answers the
    case's id and version, all its caller (a relay) needs — the whole case would cost more to
    read than the grant itself. It leaves the case's version (etag) alone: it arrives moments
    after a collector's `:escalate`, and must not make their next action fail with ABORTED."""
    caller = current_actor()
    if not caller.has_role("service"):
        raise PermissionDenied("only Settle's services record escalations", reason="SERVICE_ONLY")

    async def create(session: AsyncSession):
        case = await visible_case(session, dispute_id, lock=True, options=())
        now = ctx.clock.now()
        granted = await grant(session, case, team, escalation, now)
        history.record(
            session,
            case,
            "ESCALATION_RECORDED",
            caller.subject,
            now,
            details={"escalation": escalation, "team": team, "granted": str(granted).lower()},
        )
        await session.flush()
        return case.id, (case.id, case.version)

    async def replay(session: AsyncSession, case_id: str) -> tuple[str, int]:
        case = await visible_case(session, case_id, options=())
        return case.id, case.version

    return await run_once(ctx.db, ctx.idempotency, SCOPE, request, create, replay)
