"""Who may see and work which escalations (common.team_scope decides the team part)."""

from __future__ import annotations

from common.actor import Actor, current_actor
from common.errors import NotFound, PermissionDenied
from common.team_scope import sees_team, team_scope

WORKER_ROLES = ("team_lead", "admin", "service")  # may work any team's queue
RULE_ADMIN_ROLES = ("team_lead", "admin")
SUBSCRIPTION_ADMIN_ROLES = ("team_lead", "admin", "sre", "service")


def own_team() -> str | None:
    """The one team the caller sees ("" for a team role without a team); None: every team."""
    return team_scope(current_actor())


def visible_team(requested: str | None) -> str | None:
    """The team filter to apply: the caller's own team when scoped (naming another is refused),
    otherwise what was asked (None: every team)."""
    scope = own_team()
    if scope is None:
        return requested
    if requested is not None and requested != scope:
        raise PermissionDenied(
            f"your team role sees only {scope or 'no'} escalations", reason="OTHER_TEAM"
        )
    return scope


def check_visible(team: str, resource: str) -> None:
    """Another team's resource looks missing, so scoped callers learn nothing about it."""
    if not sees_team(current_actor(), team):
        raise NotFound(f"{resource} does not exist", metadata={"resource": resource.split()[0]})


def _is_member(actor: Actor, team: str) -> bool:
    return team_scope(actor) == team


def check_can_work(team: str, resource: str) -> Actor:
    """Claiming, answering and closing belong to the receiving team (or a lead, admin, service)."""
    actor = current_actor()
    check_visible(team, resource)
    if not (_is_member(actor, team) or actor.has_role(*WORKER_ROLES)):
        raise PermissionDenied(
            f"only the {team} team or a team lead can work this escalation",
            reason="NOT_TEAM_MEMBER",
        )
    return actor


def check_rule_admin() -> Actor:
    actor = current_actor()
    if not actor.has_role(*RULE_ADMIN_ROLES):
        raise PermissionDenied("only team leads and admins change routing rules")
    return actor


def check_subscription_admin(team: str) -> Actor:
    actor = current_actor()
    if not (_is_member(actor, team) or actor.has_role(*SUBSCRIPTION_ADMIN_ROLES)):
        raise PermissionDenied(f"only the {team} team or an admin manages its subscriptions")
    return actor
