"""One row builder per table written by more than one path: the unit of work adds what they build
as ORM rows, the batch statements insert the same dicts in one executemany."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

from common.ids import new_id
from services.escalation.data.models import EscalationRow, ResponseClockRow
from services.escalation.data.reads import EscalationRecord

ESCALATION_COLUMNS = tuple(c.key for c in EscalationRow.__table__.columns)
CLOCK_COLUMNS = tuple(c.key for c in ResponseClockRow.__table__.columns)


class Draft(SimpleNamespace):
    """A new row built in memory for a batch's Core insert: its table's columns as plain
    attributes, read and changed like the ORM row of the same table (an ORM object costs several
    times as much to build, and the batch never adds it to a session). A new escalation's draft
    holds its clock's draft as `clock`."""


def new_escalation(clock: Draft, **values) -> Draft:
    """A new escalation's row; `values` name every column of `escalations`."""
    return Draft(**values, clock=clock)


def columns(row: Draft, names: tuple[str, ...]) -> dict:
    """A draft as the dict a Core insert takes (ESCALATION_COLUMNS, CLOCK_COLUMNS)."""
    return {name: getattr(row, name) for name in names}


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
