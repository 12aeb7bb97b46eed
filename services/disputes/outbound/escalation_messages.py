"""RaiseEscalationRequest as docs/contracts.md fixes it, built from the escalation service's
generated module (the team asked for travels as the Team enum and in `attributes["team"]`)."""

from __future__ import annotations

from settle.escalation.v1 import escalation_pb2

METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"
RaiseEscalationRequest = escalation_pb2.RaiseEscalationRequest


def raise_request(
    *,
    subject: str,
    reason_code: str,
    summary: str,
    amount,
    raised_by: str,
    trigger_event_id: str,
    attributes: dict[str, str],
    team: str = "",
) -> RaiseEscalationRequest:
    request = RaiseEscalationRequest(
        subject=subject,
        reason_code=reason_code,
        summary=summary,
        raised_by=raised_by,
        trigger_event_id=trigger_event_id,
        attributes={k: str(v) for k, v in attributes.items() if v != ""},
    )
    if amount is not None:
        request.amount_at_stake.CopyFrom(amount)
    if team:
        request.attributes["team"] = team
        request.team = escalation_pb2.Team.Value(team)
    return request
