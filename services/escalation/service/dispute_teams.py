"""Telling the disputes service which team an escalation of a case went to: an outbox event in
the same transaction as the new escalation (docs/contracts.md, RecordEscalation). From then on
that team's Sales, GBS or Legal users see the case there too. Only dispute cases have an owner
that listens."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.escalation.data.models import EscalationRow
from services.escalation.service.context import EscalationContext
from settle.disputes.v1 import disputes_pb2

DESTINATION = "disputes"
METHOD = "/settle.disputes.v1.DisputesService/RecordEscalation"


def record_team(session: AsyncSession, ctx: EscalationContext, row: EscalationRow) -> str | None:
    """Queues RecordEscalation for a new escalation on a dispute; returns the event id."""
    if not row.subject.startswith("disputes/"):
        return None
    request = disputes_pb2.RecordEscalationRequest(
        dispute=row.subject, escalation=f"escalations/{row.id}", team=row.team
    )
    return ctx.outbox.add(
        session, destination=DESTINATION, method=METHOD, request=request, subject=row.subject
    )
