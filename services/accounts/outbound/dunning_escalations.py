"""What dunning and Legal hand-over send the escalation service through the accounts outbox: the
team lead when the ladder stops credit, Legal when an account is handed over, and Legal again for
every later posting on that account (a raise with the same reason on the open escalation is
recorded in its history as RAISED_AGAIN). The subject is the customer account."""

from __future__ import annotations

from common.outbox import Outbox
from common.protoconv import minor_pb
from services.accounts.outbound.escalations import DESTINATION, METHOD
from settle.escalation.v1 import escalation_pb2

STOP_CREDIT = "DUNNING_STOP_CREDIT"
LEGAL_HANDOVER = "LEGAL_HANDOVER"


def _row(
    outbox: Outbox,
    *,
    customer_id: str,
    team: str,
    reason: str,
    summary: str,
    amount_minor: int,
    currency: str,
    trigger: str,
    attributes: dict[str, str],
) -> dict:
    subject = f"customers/{customer_id}"
    request = escalation_pb2.RaiseEscalationRequest(
        subject=subject,
        team=escalation_pb2.Team.Value(team),
        reason_code=reason,
        summary=summary[:500],
        amount_at_stake=minor_pb(amount_minor, currency),
        raised_by="rule:dunning" if reason == STOP_CREDIT else "rule:legal-handover",
        trigger_event_id=trigger,
        attributes={"customer": subject, "team": team, **attributes},
    )
    return outbox.row(destination=DESTINATION, method=METHOD, request=request, subject=subject)


def stop_credit_row(
    outbox: Outbox,
    *,
    customer_id: str,
    customer_name: str,
    notice_key: str,
    total_minor: int,
    currency: str,
) -> dict:
    return _row(
        outbox,
        customer_id=customer_id,
        team="TEAM_LEAD",
        reason=STOP_CREDIT,
        summary=f"{customer_name}: credit stopped by dunning ({notice_key})",
        amount_minor=total_minor,
        currency=currency,
        trigger=f"notices/{notice_key}",
        attributes={"dunning_level": "STOP_CREDIT"},
    )


def legal_handover_row(
    outbox: Outbox,
    *,
    customer_id: str,
    customer_name: str,
    case_id: str,
    trigger: str,
    to_collect_minor: int,
    currency: str,
) -> dict:
    return _row(
        outbox,
        customer_id=customer_id,
        team="LEGAL",
        reason=LEGAL_HANDOVER,
        summary=f"{customer_name}: account handed over to Legal ({trigger})",
        amount_minor=to_collect_minor,
        currency=currency,
        trigger=f"legalCases/{case_id}",
        attributes={"legal_trigger": trigger, "bankruptcy": str(trigger == "BANKRUPTCY").lower()},
    )


def legal_posting_row(
    outbox: Outbox,
    *,
    customer_id: str,
    customer_name: str,
    allocation_id: str,
    kind: str,
    amount_minor: int,
    currency: str,
) -> dict:
    return _row(
        outbox,
        customer_id=customer_id,
        team="LEGAL",
        reason=LEGAL_HANDOVER,
        summary=f"{customer_name}: {kind} posted on an account with Legal",
        amount_minor=amount_minor,
        currency=currency,
        trigger=f"postings/{allocation_id}",
        attributes={"posting_kind": kind},
    )
