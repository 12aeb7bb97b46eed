"""The events this service sends through the outbox (docs/contracts.md), written in the caller's
transaction. Hold changes carry explicit amounts, so they converge in any delivery order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.outbox import Outbox
from common.protoconv import minor_pb
from services.disputes.data.models import DisputeRow
from services.disputes.domain.waterfall import Settlement
from services.disputes.outbound import escalation_messages
from settle.accounts.v1 import accounts_pb2 as apb

ACCOUNTS = "/settle.accounts.v1.AccountsService/"


def name(case: DisputeRow) -> str:
    return f"disputes/{case.id}"


def _hold(case: DisputeRow, invoice_id: str, minor: int) -> dict:
    return dict(
        destination="accounts",
        method=ACCOUNTS + "PlaceHold",
        subject=name(case),
        request=apb.PlaceHoldRequest(
            invoice=f"invoices/{invoice_id}",
            dispute=name(case),
            amount=minor_pb(minor, case.currency),
        ),
    )


def place_hold(
    outbox: Outbox, session: AsyncSession, case: DisputeRow, invoice_id: str, minor: int
) -> str:
    return outbox.add(session, **_hold(case, invoice_id, minor))


def hold_row(outbox: Outbox, case: DisputeRow, invoice_id: str, minor: int) -> dict:
    """`place_hold`'s event as column values, for a caller inserting its rows itself."""
    return outbox.row(**_hold(case, invoice_id, minor))


def settle(
    outbox: Outbox, session: AsyncSession, case: DisputeRow, s: Settlement, reason_code: str
) -> None:
    """Credit and write-off post to the ledger (and shrink the hold); the rest is released."""
    invoice = f"invoices/{s.invoice_id}"
    for kind, minor in ((apb.CREDIT, s.credit), (apb.WRITE_OFF, s.write_off)):
        if minor:
            outbox.add(
                session,
                destination="accounts",
                method=ACCOUNTS + "PostDisputeAdjustment",
                subject=name(case),
                request=apb.PostDisputeAdjustmentRequest(
                    invoice=invoice,
                    dispute=name(case),
                    kind=kind,
                    amount=minor_pb(minor, case.currency),
                    reason_code=reason_code,
                ),
            )
    if s.pay:
        outbox.add(
            session,
            destination="accounts",
            method=ACCOUNTS + "ReleaseHold",
            subject=name(case),
            request=apb.ReleaseHoldRequest(
                invoice=invoice, dispute=name(case), amount=minor_pb(s.pay, case.currency)
            ),
        )


def routing_attributes(case: DisputeRow, **extra) -> dict[str, str]:
    return {
        "dispute_reason": case.reason_code,
        "root_cause": case.root_cause_code or "",
        "customer": f"customers/{case.customer_id}",
        "bankruptcy": str(case.customer_bankruptcy).lower(),
        "in_litigation": str(case.customer_in_litigation).lower(),
        "priority": case.priority,
        **extra,
    }


def escalation_request(
    case: DisputeRow,
    still_minor: int,
    *,
    reason_code: str,
    summary: str,
    raised_by: str,
    trigger_event_id: str = "",
    team: str = "",
    **attributes,
):
    """The RaiseEscalation request for a case (any object with a case's columns) whose items
    still dispute `still_minor`."""
    return escalation_messages.raise_request(
        subject=name(case),
        reason_code=reason_code,
        summary=summary,
        amount=minor_pb(still_minor, case.currency),
        raised_by=raised_by,
        trigger_event_id=trigger_event_id,
        attributes=routing_attributes(case, **attributes),
        team=team,
    )


def escalate(
    outbox: Outbox,
    session: AsyncSession,
    case: DisputeRow,
    *,
    reason_code: str,
    summary: str,
    raised_by: str,
    trigger_event_id: str = "",
    team: str = "",
    **attributes,
) -> str:
    request = escalation_request(
        case,
        sum(i.still_minor for i in case.items),
        reason_code=reason_code,
        summary=summary,
        raised_by=raised_by,
        trigger_event_id=trigger_event_id,
        team=team,
        **attributes,
    )
    return outbox.add(
        session,
        destination="escalation",
        method=escalation_messages.METHOD,
        request=request,
        subject=name(case),
    )
