"""The messages the escalation service sends the disputes service, as outbox events in the same
transaction as the change they report (docs/contracts.md). Only dispute cases have an owner that
listens: for any other subject nothing is sent.

- RecordEscalation: which team a new escalation of a case went to; from then on that team's
  Sales, GBS or Legal users see the case there too.
- ApplyEscalationAnswer: the escalation was answered (resolved or handed back).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.outbox import Outbox
from services.escalation.data.models import EscalationRow
from settle.disputes.v1 import disputes_pb2

DESTINATION = "disputes"
RECORD_ESCALATION = "/settle.disputes.v1.DisputesService/RecordEscalation"
APPLY_ANSWER = "/settle.disputes.v1.DisputesService/ApplyEscalationAnswer"


def record_team(outbox: Outbox, row, now: datetime, traceparent: str | None) -> dict | None:
    """RecordEscalation for a new escalation on a dispute (a draft of rows.new_escalation), as
    the outbox row a batch inserts with its others; it carries `traceparent` (the raise's)."""
    if not row.subject.startswith("disputes/"):
        return None
    request = disputes_pb2.RecordEscalationRequest(
        dispute=row.subject, escalation=f"escalations/{row.id}", team=row.team
    )
    return outbox.row(
        destination=DESTINATION,
        method=RECORD_ESCALATION,
        request=request,
        subject=row.subject,
        now=now,
        traceparent=traceparent,
    )


def tell_owner(session: AsyncSession, outbox: Outbox, row: EscalationRow) -> str | None:
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
    return outbox.add(
        session, destination=DESTINATION, method=APPLY_ANSWER, request=request, subject=row.subject
    )
