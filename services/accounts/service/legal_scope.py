"""Legal sees only its accounts (issue 14). Legal is a team role (common/team_scope.py): a caller
whose only working role is Legal reads a customer, its invoices, timeline, notices, statements
and legal cases only while the customer has an active legal case. Any other answers NOT_FOUND,
as another team's escalation does, so a forbidden account and a missing one look the same."""

from __future__ import annotations

from common.actor import Actor, current_actor
from common.team_scope import team_scope
from services.accounts.data import dunning_reads
from services.accounts.data.repository import missing

LEGAL = "legal"


def legal_only(actor: Actor | None = None) -> bool:
    """Whether the caller (default: the current one) sees only accounts with Legal."""
    actor = actor or current_actor()
    return actor.has_role(LEGAL) and team_scope(actor) is not None


async def check_visible(conn, customer_id: str, kind: str = "customer", name: str = "") -> None:
    """NOT_FOUND (for the `kind` named `name`, default the customer) when a Legal-only caller
    asks for an account without an active legal case."""
    if legal_only() and not await dunning_reads.has_active_legal_case(conn, customer_id):
        raise missing(kind, name or customer_id)
