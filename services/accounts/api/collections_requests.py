"""Requests of the collector's day → validated domain values, every problem at once."""

from __future__ import annotations

from common import validation
from common.errors import Violations
from common.ids import is_id
from common.protoconv import from_timestamp, parse_date, parse_money
from services.accounts.domain.interactions import (
    Channel,
    Direction,
    InteractionData,
    Requirement,
)
from services.accounts.domain.promises import MAX_INSTALMENTS, MAX_INVOICES, Instalment, PromisePlan
from services.accounts.domain.worklist import MAX_RULES, Rule, parse_rule
from settle.accounts.v1 import accounts_pb2 as pb


def _invoice_ids(names, field: str, v: Violations) -> tuple[str, ...]:
    validation.repeated(names, field, v, limit=MAX_INVOICES)
    return tuple(
        validation.resource_id(n, "invoices", f"{field}[{i}]", v) for i, n in enumerate(names)
    )


def promise_plan(msg: pb.PromisePlan, v: Violations, prefix: str = "promise_plan") -> PromisePlan:
    promise = msg.promise
    validation.repeated(msg.instalments, f"{prefix}.instalments", v, limit=MAX_INSTALMENTS)
    items = []
    given = [(promise.amount, promise.promised_date)] if promise.HasField("amount") else []
    if given and msg.instalments:
        v.add(f"{prefix}.promise.amount", "give the amount and date, or instalments, not both")
    sources = given or [(i.amount, i.promised_date) for i in msg.instalments]
    for i, (amount, on) in enumerate(sources):
        where = f"{prefix}.promise" if given else f"{prefix}.instalments[{i}]"
        money = parse_money(amount, f"{where}.amount", v)
        day = parse_date(on, f"{where}.promised_date", v)
        if money is not None and day is not None:
            items.append(Instalment(money, day))
    return PromisePlan(
        invoice_ids=_invoice_ids(promise.invoices, f"{prefix}.promise.invoices", v),
        contact_position=promise.contact_index - 1 if promise.contact_index > 0 else None,
        contact_text=validation.text(promise.contact_text, f"{prefix}.promise.contact_text", v),
        instalments=tuple(items),
    )


def interaction(request: pb.LogInteractionRequest, v: Violations) -> InteractionData:
    msg = request.interaction
    customer_id = validation.resource_id(request.parent, "customers", "parent", v)
    channel = pb.Interaction.Channel.Name(msg.channel)
    v.require(msg.channel != 0, "interaction.channel", "is required")
    direction = pb.Interaction.Direction.Name(msg.direction) if msg.direction else "OUTBOUND"
    account_id = None
    if msg.billing_account:
        parts = msg.billing_account.split("/")
        ok = len(parts) == 4 and parts[2] == "billingAccounts" and is_id(parts[3])
        v.require(
            ok, "interaction.billing_account", "must be 'customers/{id}/billingAccounts/{id}'"
        )
        account_id = parts[3] if ok else None
    v.require(msg.duration_seconds >= 0, "interaction.duration_seconds", "must not be negative")
    v.require(msg.contact_index >= 0, "interaction.contact_index", "must not be negative")
    return InteractionData(
        customer_id=customer_id,
        billing_account_id=account_id,
        invoice_ids=_invoice_ids(msg.invoices, "interaction.invoices", v),
        dispute=_dispute(msg.dispute, v),
        channel=Channel(channel) if msg.channel else Channel.PHONE,
        direction=Direction(direction),
        contact_position=msg.contact_index - 1 if msg.contact_index > 0 else None,
        contact_text=validation.text(msg.contact_text, "interaction.contact_text", v),
        outcome_code=validation.code(msg.outcome_code, "interaction.outcome_code", v),
        note=validation.text(msg.note, "interaction.note", v),
        occurred_at=from_timestamp(msg.occurred_time) if msg.HasField("occurred_time") else None,
        duration_s=msg.duration_seconds,
        call_back_at=from_timestamp(msg.call_back_time) if msg.HasField("call_back_time") else None,
    )


def _dispute(name: str, v: Violations) -> str:
    if not name:
        return ""
    validation.resource_id(name, "disputes", "interaction.dispute", v)
    return name


def requirement(value: int, v: Violations) -> Requirement:
    if value == 0:
        return Requirement.NONE
    return Requirement(pb.OutcomeRequirement.Name(value))


def rules(msgs, field: str, v: Violations) -> tuple[Rule, ...]:
    validation.repeated(msgs, field, v, limit=MAX_RULES)
    return tuple(
        parse_rule(
            validation.code(r.code, f"{field}[{i}].code", v),
            validation.text(r.label, f"{field}[{i}].label", v),
            r.fact,
            r.min,
            r.max,
            r.points,
            v,
            f"{field}[{i}]",
        )
        for i, r in enumerate(msgs)
    )
