"""An event's JSON body (what webhooks POST and watch streams replay) built straight from the
escalation view: the same JSON, key for key, that protobuf's json_format makes of the
EscalationEvent message (camelCase names, enums by name, int64 as strings, RFC 3339 times,
fields at their default left out, keys sorted), at a fraction of its cost: json_format walks the
message by reflection in Python, and was 11 % of the escalation service's CPU in a breach burst
(docs/benchmarks.md). tests/escalation/api/test_event_json.py holds it to json_format's output;
a field added to Escalation must be added here too, which that test catches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from common.etag import etag_of
from common.money import format_minor
from services.escalation.domain.values import Severity
from services.escalation.service.journal import EscalationView


def event_body(cursor: str, event_type: str, at: datetime, view: EscalationView) -> bytes:
    event = {"cursor": cursor, "type": event_type, "time": _time(at), "escalation": _of(view)}
    return json.dumps(_present(event), sort_keys=True).encode()


def _of(view: EscalationView) -> dict:
    row, clock = view.row, view.clock
    escalation = {
        "name": f"escalations/{row.id}",
        "uid": row.id,
        "subject": row.subject,
        "team": row.team,
        "reasonCode": row.reason_code,
        "severity": Severity(row.severity).name,
        "summary": row.summary,
        "raisedBy": row.raised_by,
        "triggerEventId": row.trigger_event_id,
        "attributes": json.loads(row.attributes),
        "state": row.state,
        "assignee": row.assignee,
        "infoRequest": row.info_request,
        "infoResponse": row.info_response,
        "outcomeCode": row.outcome_code,
        "note": row.note,
        "evidenceLinks": json.loads(row.evidence_links),
        "answeredBy": row.answered_by,
        "routingRule": f"routingRules/{row.routing_rule_id}" if row.routing_rule_id else "",
        "responseClock": _present(
            {
                "status": clock.status,
                "targetMinutes": str(clock.target_minutes) if clock.target_minutes else "",
                "dueTime": _time(clock.due_time),
                "remainingMinutes": str(clock.remaining_minutes) if clock.remaining_minutes else "",
                "fired": list(clock.fired),
                "breached": clock.breached,
            }
        ),
        "etag": etag_of(row.id, row.version),
        "createTime": _time(row.created_at),
        "updateTime": _time(row.updated_at),
        "closeTime": _time(row.closed_at),
    }
    if row.amount_minor is not None and row.amount_currency:
        escalation["amountAtStake"] = _present(
            {
                "currencyCode": row.amount_currency,
                "amount": format_minor(row.amount_minor, row.amount_currency),
            }
        )
    return _present(escalation)


def _present(fields: dict) -> dict:
    """Without the fields at their default ("", 0, False, empty, unset), as json_format leaves
    them out. A message field is set whenever it is not None, and never empty here (a clock
    always has its status)."""
    return {k: v for k, v in fields.items() if v}


def _time(value: datetime | None) -> str | None:
    """google.protobuf.Timestamp's JSON: UTC, 'Z', 0, 3 or 6 fractional digits."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"
