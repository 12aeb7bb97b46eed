"""Team scope: whose escalations (and the cases behind them) a caller may see and act on.

People whose only roles are team roles (sales, gbs, legal) work on their own team's escalations
and the dispute cases escalated to that team, nothing else. Everyone else (case workers, team
leads, SRE, admins, services) is not team-scoped. The gateway puts the team in the signed identity
(common/actor.py) and refuses team-role tokens without one; the services apply this rule and
answer NOT_FOUND, never PERMISSION_DENIED, for another team's resource, so a forbidden resource and
a missing one look the same.
"""

from __future__ import annotations

from common.actor import Actor

TEAM_ROLES = frozenset({"sales", "gbs", "legal"})
# A broader role wins: a Sales user who is also a team lead sees every team's work.
UNSCOPED_ROLES = frozenset({"collector", "specialist", "team_lead", "sre", "admin", "service"})


def team_scope(actor: Actor) -> str | None:
    """None when the caller sees every team's work; otherwise the one team it sees ("SALES")."""
    if not actor.has_role(*TEAM_ROLES) or actor.has_role(*UNSCOPED_ROLES):
        return None
    return actor.team.strip().upper()


def sees_team(actor: Actor, team: str) -> bool:
    """Whether `actor` may see work of `team` (a Team enum name such as "SALES")."""
    scope = team_scope(actor)
    return scope is None or (scope != "" and scope == team.strip().upper())
