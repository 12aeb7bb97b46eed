"""Records and views → protobuf, and the JSON body of events (the API's own JSON form)."""

from __future__ import annotations

import json
from datetime import datetime

from google.protobuf import json_format

from common.errors import DomainError
from common.etag import etag_of
from common.protoconv import minor_pb, timestamp
from common.rpc.status import error_status
from services.escalation.api import event_json
from services.escalation.api.cursors import WatchCursors
from services.escalation.data.reads import (
    DeliveryRecord,
    HistoryRecord,
    RoutingRuleRecord,
    SubscriptionRecord,
)
from services.escalation.domain.values import Severity
from services.escalation.service.journal import EscalationView
from settle.escalation.v1 import escalation_pb2 as pb

SERVICE = "escalation"  # the ErrorInfo domain's prefix, as the server interceptor's
_CLOCK_STATUS = {
    "RUNNING": pb.RUNNING,
    "PAUSED": pb.PAUSED,
    "MET": pb.MET,
    "CANCELLED": pb.CANCELLED,
}


def _state(text: str) -> pb.State:
    return pb.State.Value(text) if text else pb.STATE_UNSPECIFIED


def escalation(view: EscalationView) -> pb.Escalation:
    row, clock = view.row, view.clock
    msg = pb.Escalation(
        name=f"escalations/{row.id}",
        uid=row.id,
        subject=row.subject,
        team=pb.Team.Value(row.team),
        reason_code=row.reason_code,
        severity=pb.Severity.Value(Severity(row.severity).name),
        summary=row.summary,
        raised_by=row.raised_by,
        trigger_event_id=row.trigger_event_id,
        attributes=json.loads(row.attributes),
        state=_state(row.state),
        assignee=row.assignee,
        info_request=row.info_request,
        info_response=row.info_response,
        outcome_code=row.outcome_code,
        note=row.note,
        evidence_links=json.loads(row.evidence_links),
        answered_by=row.answered_by,
        routing_rule=f"routingRules/{row.routing_rule_id}" if row.routing_rule_id else "",
        response_clock=pb.ResponseClock(
            status=_CLOCK_STATUS[clock.status],
            target_minutes=clock.target_minutes,
            due_time=timestamp(clock.due_time),
            remaining_minutes=clock.remaining_minutes,
            fired=clock.fired,
            breached=clock.breached,
        ),
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
        close_time=timestamp(row.closed_at),
    )
    if row.amount_minor is not None and row.amount_currency:
        msg.amount_at_stake.CopyFrom(minor_pb(row.amount_minor, row.amount_currency))
    return msg


def raise_result(outcome: EscalationView | DomainError) -> pb.RaiseEscalationsResponse.Result:
    if isinstance(outcome, DomainError):
        return pb.RaiseEscalationsResponse.Result(error=error_status(outcome, SERVICE))
    return pb.RaiseEscalationsResponse.Result(escalation=escalation(outcome))


def event_body(
    cursors: WatchCursors, event_type: str, sequence: int, at: datetime, view: EscalationView
) -> bytes:
    """What webhooks POST and watch streams replay, stored once per event: the EscalationEvent
    message's JSON (event_json.py). Its cursor is sealed for the escalation's team, the team of
    every subscription that receives it: never the feed's global sequence, which would tell one
    team how much the others did."""
    return event_json.event_body(
        cursors.seal_for_team(sequence, view.row.team), event_type, at, view
    )


def event_from_body(body: bytes) -> pb.EscalationEvent:
    # Bodies are stored: a field removed from the proto later must not break old events.
    return json_format.Parse(body, pb.EscalationEvent(), ignore_unknown_fields=True)


def history_entry(row: HistoryRecord) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        action=row.action,
        actor=row.actor,
        time=timestamp(row.at),
        from_state=_state(row.from_state),
        to_state=_state(row.to_state),
        version=row.version,
        details=json.loads(row.details),
    )


def routing_rule(row: RoutingRuleRecord) -> pb.RoutingRule:
    msg = pb.RoutingRule(
        name=f"routingRules/{row.id}",
        description=row.description,
        priority=row.priority,
        active=row.active,
        reason_code=row.reason_code,
        root_cause=row.root_cause,
        dispute_reason=row.dispute_reason,
        customer_flag=row.customer_flag,
        team=pb.Team.Value(row.team),
        severity=pb.Severity.Value(Severity(row.severity).name),
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if row.min_amount_minor is not None and row.min_amount_currency:
        msg.min_amount.CopyFrom(minor_pb(row.min_amount_minor, row.min_amount_currency))
    return msg


def subscription(row: SubscriptionRecord) -> pb.Subscription:
    # The secret never leaves: the record does not hold it.
    return pb.Subscription(
        name=f"subscriptions/{row.id}",
        team=pb.Team.Value(row.team),
        endpoint_uri=row.endpoint_uri,
        description=row.description,
        created_by=row.created_by,
        create_time=timestamp(row.created_at),
    )


def delivery(row: DeliveryRecord, event_cursor: str) -> pb.Delivery:
    return pb.Delivery(
        name=f"subscriptions/{row.subscription_id}/deliveries/{row.id}",
        event_type=row.event_type,
        event_cursor=event_cursor,
        escalation=f"escalations/{row.escalation_id}",
        state=pb.DeliveryState.Value(row.state),
        attempts=row.attempts,
        last_error=row.last_error or "",
        next_attempt_time=timestamp(row.next_attempt_at) if row.state == "PENDING" else None,
        create_time=timestamp(row.created_at),
        deliver_time=timestamp(row.delivered_at),
    )
