"""Whose customers a caller works: a collector their own (and unassigned ones), a team lead
their team's (every team's without a team in the identity); other roles the gateway lets through
(specialists, services) any."""

from __future__ import annotations

from common.actor import Actor
from common.errors import PermissionDenied
from services.accounts.data.collections_models import AssignmentRow

COLLECTOR, TEAM_LEAD = "collector", "team_lead"


def check_may_work(actor: Actor, assignment: AssignmentRow | None) -> None:
    if assignment is None:
        return
    if actor.has_role(TEAM_LEAD):
        if actor.team and assignment.team and assignment.team != actor.team:
            raise PermissionDenied("this customer is worked by another team")
    elif actor.has_role(COLLECTOR) and assignment.collector != actor.subject:
        raise PermissionDenied("this customer is assigned to another collector")


def worklist_scope(actor: Actor, collector: str, team: str) -> tuple[str, str]:
    """(scope, value) of data/worklist_reads.facts: a collector sees only their own list."""
    if actor.has_role(TEAM_LEAD):
        if collector:
            return "collector", collector
        if team or actor.team:
            return "team", team or actor.team
        return "all", ""
    if collector and collector != actor.subject:
        raise PermissionDenied("collectors see their own worklist")
    return "collector", actor.subject
