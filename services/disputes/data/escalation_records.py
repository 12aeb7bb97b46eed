"""RecordEscalations' statements, set-based: a batch of reported escalations costs a fixed number
of statements, whatever its size. The cases are locked in id order (two batches, or a batch and a
case's own `:escalate`, granting the same team wait for each other instead of both inserting),
the teams they already have are read in one SELECT, then one INSERT per table (new team rows,
history; `rows.insert_new`) and one executemany UPDATE naming the escalation of teams a
`:escalate` granted before the escalation existed. Plain rows in and out, the same on PostgreSQL
and SQLite."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disputes.data import rows
from services.disputes.data.models import DisputeRow, DisputeTeamRow, HistoryRow

_CASES, _TEAMS = DisputeRow.__table__, DisputeTeamRow.__table__
_LOCK_CASES = (
    select(_CASES.c.id, _CASES.c.version)
    .where(_CASES.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_CASES.c.id)
    .with_for_update()
)
_TEAMS_OF = select(_TEAMS.c.dispute_id, _TEAMS.c.team, _TEAMS.c.escalation).where(
    _TEAMS.c.dispute_id.in_(bindparam("ids", expanding=True))
)
_NAME_ESCALATION = (
    update(_TEAMS)
    .where(_TEAMS.c.dispute_id == bindparam("b_id"), _TEAMS.c.team == bindparam("b_team"))
    .values(escalation=bindparam("b_escalation"))
)


async def lock_cases(session: AsyncSession, case_ids: Collection[str]) -> dict[str, int]:
    """Case id -> version of the cases that exist, locked until the transaction ends."""
    if not case_ids:
        return {}
    found = await session.execute(_LOCK_CASES, {"ids": sorted(case_ids)})
    return {case_id: version for case_id, version in found}


async def teams_of(session: AsyncSession, case_ids: Collection[str]) -> dict[tuple[str, str], str]:
    """(case id, team) -> the escalation that brought the team in ("" when not yet reported)."""
    if not case_ids:
        return {}
    found = await session.execute(_TEAMS_OF, {"ids": sorted(case_ids)})
    return {(case_id, team): escalation for case_id, team, escalation in found}


@dataclass
class Grants:
    """What a batch of reported escalations writes, table by table."""

    new_teams: list[DisputeTeamRow] = field(default_factory=list)
    # (case id, team) -> escalation, for team rows that exist without one
    named: dict[tuple[str, str], str] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


async def write(session: AsyncSession, grants: Grants) -> None:
    """One statement per table; team names in key order (the same lock order in every replica)."""
    if grants.named:
        named = [
            {"b_id": case_id, "b_team": team, "b_escalation": escalation}
            for (case_id, team), escalation in sorted(grants.named.items())
        ]
        await session.execute(_NAME_ESCALATION, named)
    await rows.insert_new(
        session,
        sorted(grants.new_teams, key=lambda t: (t.dispute_id, t.team)),
        {HistoryRow.__table__: grants.history} if grants.history else None,
    )
