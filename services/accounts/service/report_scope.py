"""What an accounts report run may read, and how its amounts print: shared by every accounts
report (service/reports.py, service/reports_collections.py)."""

from __future__ import annotations

from decimal import Decimal

from common.actor import Actor
from common.money import format_minor
from services.accounts.service.legal_scope import legal_only

COLLECTOR, TEAM_LEAD = "collector", "team_lead"


def report_scope(actor: Actor) -> tuple[str, str]:
    """What a run may read: a collector their own customers, a team lead their team's (every
    team's without a team in the identity), a Legal-only caller the customers with an active
    legal case, other roles and services everything."""
    if legal_only(actor):
        return "legal", ""
    if actor.has_role(TEAM_LEAD):
        return ("team", actor.team) if actor.team else ("all", "")
    if actor.has_role(COLLECTOR):
        return "collector", actor.subject
    return "all", ""


def amount(minor: int, currency: str) -> Decimal:
    """Minor units as the exact decimal of the currency (EUR 2, JPY 0, KWD 3 decimals)."""
    return Decimal(format_minor(minor, currency))
