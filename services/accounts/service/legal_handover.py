"""Handing an account over to Legal: the case with its snapshot of amounts per currency, the
customer's dunning block, and the escalation to LEGAL through the accounts outbox — the rows the
caller writes in its own transaction (the dunning run's batch, or UpdateCustomer's unit of work)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from common.ids import new_id
from common.outbox import Outbox
from services.accounts.data import dunning_rows
from services.accounts.data.rows import Row
from services.accounts.domain import legal
from services.accounts.domain.dunning import InvoicePosition
from services.accounts.domain.legal import LegalTrigger
from services.accounts.outbound.dunning_escalations import legal_handover_row


@dataclass(frozen=True)
class HandOver:
    case: Row
    snapshot: list[Row]
    event: Row
    escalation: Row  # the outbox event


def hand_over(
    outbox: Outbox,
    *,
    customer_id: str,
    customer_name: str,
    reason: LegalTrigger,
    positions: Mapping[str, Iterable[InvoicePosition]],  # per currency
    as_of: date,
    now: datetime,
    by: str,
) -> HandOver:
    case = legal.open_case(
        case_id=new_id(),
        customer_id=customer_id,
        reason=reason,
        snapshots=[legal.snapshot(as_of, c, ps) for c, ps in sorted(positions.items())],
        at=now,
        by=by,
    )
    # The escalation names the currency Legal takes over most in; each snapshot has them all.
    main = max(case.snapshots, key=lambda s: s.to_collect_minor, default=None)
    return HandOver(
        case=dunning_rows.legal_case(case, now),
        snapshot=dunning_rows.legal_snapshot_lines(case),
        event=dunning_rows.legal_event(case.case_id, customer_id, case.history[0]),
        escalation=legal_handover_row(
            outbox,
            customer_id=customer_id,
            customer_name=customer_name,
            case_id=case.case_id,
            trigger=reason.value,
            to_collect_minor=main.to_collect_minor if main else 0,
            currency=main.currency if main else "EUR",
        ),
    )
