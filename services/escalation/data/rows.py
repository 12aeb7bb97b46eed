"""One row builder per table written by more than one path: the unit of work adds what they build
as ORM rows, the batch statements insert the same dicts in one executemany."""

from __future__ import annotations

import json
from datetime import datetime

from common.ids import new_id
from services.escalation.data.models import EscalationRow
from services.escalation.data.reads import EscalationRecord


def columns(row) -> dict:
    """An ORM row built for the session as the dict a Core insert takes (the raise batch inserts
    new escalations and clocks this way, so both paths build them in one place)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def history(
    row: EscalationRow,
    action: str,
    actor: str,
    at: datetime,
    *,
    from_state: str = "",
    details: dict | None = None,
) -> dict:
    """A history entry's columns, as the escalation stands after the change."""
    return {
        "escalation_id": row.id,
        "action": action,
        "actor": actor,
        "at": at,
        "from_state": from_state,
        "to_state": row.state,
        "version": row.version,
        "details": json.dumps(
            {k: str(v) for k, v in (details or {}).items() if v not in ("", None)}
        ),
    }


def event(
    sequence: int, escalation: EscalationRecord, event_type: str, at: datetime, body: bytes
) -> dict:
    return {
        "sequence": sequence,
        "escalation_id": escalation.id,
        "team": escalation.team,
        "type": event_type,
        "occurred_at": at,
        "body": body,
    }


def delivery(subscription_id: str, event: dict, at: datetime) -> dict:
    """A pending webhook delivery of `event` (a row of `event` above), due at once."""
    return {
        "id": new_id(),
        "subscription_id": subscription_id,
        "event_sequence": event["sequence"],
        "event_type": event["type"],
        "escalation_id": event["escalation_id"],
        "state": "PENDING",
        "attempts": 0,
        "last_error": None,
        "next_attempt_at": at,
        "created_at": at,
        "delivered_at": None,
    }
