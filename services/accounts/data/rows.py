"""One builder per table: the column values of a new row, as a dict. The ORM path makes its
objects from them (`CustomerRow(**rows.customer(...))`) and the import's Core batch inserts them
as they are, so a column added to a table is set in one place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from common.ids import new_id
from services.accounts.domain.interactions import InteractionData
from services.accounts.domain.promises import PromisePlan, PromiseState
from services.accounts.domain.records import (
    ContactData,
    CustomerData,
    FundsData,
    InvoiceData,
    SourceKind,
)
from services.accounts.domain.worklist import Rule

Row = dict[str, Any]


def customer_values(data: CustomerData) -> Row:
    """The customer's columns that a request sets (creation and update alike)."""
    limit = data.credit_limit
    return dict(
        display_name=data.display_name,
        external_ref=data.external_ref,
        country_code=data.country_code,
        time_zone=data.time_zone,
        currency_code=data.currency_code,
        risk_class=data.risk_class.value,
        credit_limit_minor=limit.minor if limit else None,
        credit_limit_currency=limit.currency if limit else None,
        bankruptcy=data.bankruptcy,
        in_litigation=data.in_litigation,
        credit_hold=data.credit_hold,
        dunning_block=data.dunning_block,
    )


def customer(customer_id: str, data: CustomerData, now: datetime) -> Row:
    return dict(id=customer_id, version=1, created_at=now, updated_at=now, **customer_values(data))


def contact(customer_id: str, position: int, data: ContactData) -> Row:
    return dict(customer_id=customer_id, position=position, **vars(data))


def invoice(
    invoice_id: str,
    data: InvoiceData,
    now: datetime,
    *,
    closed_date: date | None = None,
    import_fingerprint: str | None = None,
) -> Row:
    """Open for its whole amount, or settled (closed_date set, nothing open) by an import."""
    return dict(
        id=invoice_id,
        customer_id=data.customer_id,
        billing_account_id=data.billing_account_id,
        external_number=data.external_number,
        invoice_date=data.invoice_date,
        due_date=data.due_date,
        currency=data.amount.currency,
        amount_minor=data.amount.minor,
        open_minor=data.amount.minor if closed_date is None else 0,
        held_minor=0,
        closed_date=closed_date,
        import_fingerprint=import_fingerprint,
        created_at=now,
    )


def invoice_lines(invoice_id: str, data: InvoiceData) -> list[Row]:
    return [
        dict(
            invoice_id=invoice_id,
            line_number=i + 1,
            description=line.description,
            quantity=line.quantity,
            amount_minor=line.amount.minor,
            kind=line.kind,
        )
        for i, line in enumerate(data.lines)
    ]


def payment(payment_id: str, data: FundsData, now: datetime, *, unallocated_minor: int) -> Row:
    return dict(
        id=payment_id,
        customer_id=data.customer_id,
        currency=data.amount.currency,
        amount_minor=data.amount.minor,
        unallocated_minor=unallocated_minor,
        received_date=data.on,
        reference=data.reference,
        created_at=now,
    )


def credit_note(
    note_id: str, data: FundsData, now: datetime, *, unallocated_minor: int, dispute: str = ""
) -> Row:
    return dict(
        id=note_id,
        customer_id=data.customer_id,
        currency=data.amount.currency,
        amount_minor=data.amount.minor,
        unallocated_minor=unallocated_minor,
        issue_date=data.on,
        external_number=data.reference,
        reason=data.reason,
        dispute=dispute,
        created_at=now,
    )


def billing_account(
    customer_id: str, number: str, display_name: str, currency: str, now: datetime
) -> Row:
    return dict(
        id=new_id(),
        customer_id=customer_id,
        number=number,
        display_name=display_name,
        currency_code=currency,
        created_at=now,
    )


def allocation(
    invoice_id: str,
    kind: SourceKind,
    source_id: str,
    amount_minor: int,
    applied_date: date,
    now: datetime,
    reason_code: str = "",
    entry_key: str | None = None,
) -> Row:
    return dict(
        id=new_id(),
        invoice_id=invoice_id,
        source_kind=kind.value,
        source_id=source_id,
        amount_minor=amount_minor,
        applied_date=applied_date,
        reason_code=reason_code,
        created_at=now,
        entry_key=entry_key,
    )


def hold(
    invoice_id: str, dispute: str, amount_minor: int, now: datetime, hold_id: str | None = None
) -> Row:
    return dict(
        id=hold_id or new_id(),
        invoice_id=invoice_id,
        dispute=dispute,
        amount_minor=amount_minor,
        created_at=now,
        updated_at=now,
    )


def hold_movement(hold_id: str, invoice_id: str, delta_minor: int, now: datetime) -> Row:
    return dict(
        id=new_id(),
        hold_id=hold_id,
        invoice_id=invoice_id,
        delta_minor=delta_minor,
        occurred_on=now.date(),
        occurred_at=now,
    )


# --- the collector's day -------------------------------------------------------------------------
def interaction(
    interaction_id: str, data: InteractionData, author: str, occurred_at: datetime, now: datetime
) -> Row:
    return dict(
        id=interaction_id,
        customer_id=data.customer_id,
        billing_account_id=data.billing_account_id,
        dispute=data.dispute,
        channel=data.channel.value,
        direction=data.direction.value,
        contact_position=data.contact_position,
        contact_text=data.contact_text,
        outcome_code=data.outcome_code,
        note=data.note,
        author=author,
        occurred_at=occurred_at,
        duration_s=data.duration_s,
        call_back_at=data.call_back_at,
        created_at=now,
    )


def interaction_invoice(interaction_id: str, invoice_id: str) -> Row:
    return dict(interaction_id=interaction_id, invoice_id=invoice_id)


def promise(
    customer_id: str,
    plan: PromisePlan,
    plan_id: str,
    number: int,
    deadline_at: datetime,
    taken_by: str,
    interaction_id: str | None,
    now: datetime,
) -> Row:
    """Instalment `number` (1-based) of the plan, OPEN."""
    item = plan.instalments[number - 1]
    return dict(
        id=new_id(),
        customer_id=customer_id,
        interaction_id=interaction_id,
        plan_id=plan_id,
        instalment=number,
        currency=item.amount.currency,
        amount_minor=item.amount.minor,
        promised_date=item.promised_date,
        deadline_at=deadline_at,
        state=PromiseState.OPEN.value,
        paid_minor=0,
        contact_position=plan.contact_position,
        contact_text=plan.contact_text,
        taken_by=taken_by,
        version=1,
        created_at=now,
        judged_at=None,
    )


def promise_invoice(promise_id: str, invoice_id: str) -> Row:
    return dict(promise_id=promise_id, invoice_id=invoice_id)


def promise_event(
    promise_id: str,
    customer_id: str,
    state: str,
    amount_minor: int,
    currency: str,
    actor: str,
    now: datetime,
) -> Row:
    """`amount_minor`: the promised amount when taken, what was paid when judged."""
    return dict(
        id=new_id(),
        promise_id=promise_id,
        customer_id=customer_id,
        state=state,
        amount_minor=amount_minor,
        currency=currency,
        actor=actor,
        occurred_at=now,
    )


def assignment(customer_id: str, collector: str, team: str, actor: str, now: datetime) -> Row:
    return dict(
        customer_id=customer_id, collector=collector, team=team, updated_at=now, updated_by=actor
    )


def worklist_rule(version: int, position: int, rule: Rule) -> Row:
    return dict(
        strategy_version=version,
        position=position,
        code=rule.code,
        label=rule.label,
        fact=rule.fact,
        min_value="" if rule.min is None else str(rule.min),
        max_value="" if rule.max is None else str(rule.max),
        points=rule.points,
    )
