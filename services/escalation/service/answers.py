"""Telling the subject's owner that its escalation was answered: an outbox event in the same
transaction as the answer (docs/contracts.md). Only dispute cases have an owner that listens."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from services.escalation.data.models import EscalationRow
from services.escalation.service.context import EscalationContext
from settle.disputes.v1 import disputes_pb2

DESTINATION = "disputes"
METHOD = "/settle.disputes.v1.DisputesService/ApplyEscalationAnswer"


def tell_owner(session: AsyncSession, ctx: EscalationContext, row: EscalationRow) -> str | None:
    """Queues ApplyEscalationAnswer for a closed escalation on a dispute; returns the event id."""
    if not row.subject.startswith("disputes/"):
        return None
    request = disputes_pb2.ApplyEscalationAnswerRequest(
        dispute=row.subject,
        escalation=f"escalations/{row.id}",
        team=row.team,
        kind=row.state,  # RESOLVED or HANDED_BACK
        outcome_code=row.outcome_code,
        note=row.note,
        evidence_links=json.loads(row.evidence_links),
        answered_by=row.answered_by,
    )
    return ctx.outbox.add(
        session, destination=DESTINATION, method=METHOD, request=request, subject=row.subject
    )
