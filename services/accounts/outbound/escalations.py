"""The escalation this service raises through its outbox: a broken promise to pay reaching the
policy's level goes to the customer's team lead (subject: the customer account)."""

from __future__ import annotations

from common.outbox import Outbox
from common.protoconv import minor_pb
from settle.escalation.v1 import escalation_pb2

DESTINATION = "escalation"
METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"
REASON = "BROKEN_PROMISE"


def broken_promise_row(
    outbox: Outbox,
    *,
    customer_id: str,
    promise_id: str,
    amount_minor: int,
    currency: str,
    level: int,
    bankruptcy: bool,
    in_litigation: bool,
) -> dict:
    """The outbox row (Core insert by the evaluator); the event id becomes the request_id."""
    subject = f"customers/{customer_id}"
    request = escalation_pb2.RaiseEscalationRequest(
        subject=subject,
        team=escalation_pb2.Team.Value("TEAM_LEAD"),
        reason_code=REASON,
        summary=f"Promise to pay broken (promise level {level})",
        amount_at_stake=minor_pb(amount_minor, currency),
        raised_by="rule:broken-promise",
        trigger_event_id=f"promises/{promise_id}",
        attributes={
            "customer": subject,
            "team": "TEAM_LEAD",
            "promise_level": str(level),
            "bankruptcy": str(bankruptcy).lower(),
            "in_litigation": str(in_litigation).lower(),
        },
    )
    return outbox.row(destination=DESTINATION, method=METHOD, request=request, subject=subject)
