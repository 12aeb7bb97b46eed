"""Protobuf requests → validated domain values. Every problem of a request is reported at once
as a field violation; nothing here touches the database."""

from __future__ import annotations

import re
import zoneinfo
from typing import TypeVar

from common import validation
from common.errors import Violations
from common.ids import is_id, parse_name
from common.protoconv import parse_date, parse_money
from services.accounts.domain.records import (
    AllocationData,
    AllocationRequest,
    ContactData,
    CustomerData,
    FundsData,
    InvoiceData,
    InvoiceLineData,
    RiskClass,
    SourceKind,
)
from services.accounts.service.holds import HoldChange
from settle.accounts.v1 import accounts_pb2 as pb

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
T = TypeVar("T")


def customer_data(msg: pb.Customer, v: Violations, prefix: str = "customer") -> CustomerData:
    f = lambda name: f"{prefix}.{name}"  # noqa: E731
    country = msg.country_code.upper()  # its form: the protos' rule (common/contract.py)
    tz = msg.time_zone or "UTC"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        v.add(f("time_zone"), "is not an IANA time zone")
    contacts = []
    for i, c in enumerate(msg.contacts):
        cf = f"{prefix}.contacts[{i}]"
        v.require(
            not c.email or bool(_EMAIL.match(c.email)), f"{cf}.email", "is not an email address"
        )
        contacts.append(
            ContactData(
                name=validation.text(c.name, f"{cf}.name", v),
                email=validation.text(c.email, f"{cf}.email", v),
                phone=validation.text(c.phone, f"{cf}.phone", v),
                language=validation.text(c.language, f"{cf}.language", v),
                role=validation.text(c.role, f"{cf}.role", v),
            )
        )
    risk = pb.RiskClass.Name(msg.risk_class) if msg.risk_class else "MEDIUM"
    return CustomerData(
        display_name=validation.text(msg.display_name, f("display_name"), v, required=True),
        external_ref=validation.text(msg.external_ref, f("external_ref"), v) or None,
        country_code=country,
        time_zone=tz,
        currency_code=validation.currency(msg.currency_code, f("currency_code"), v, required=False),
        risk_class=RiskClass(risk),
        credit_limit=parse_money(
            msg.credit_limit, f("credit_limit"), v, required=False, positive=False
        ),
        bankruptcy=msg.bankruptcy,
        in_litigation=msg.in_litigation,
        credit_hold=msg.credit_hold,
        contacts=tuple(contacts),
        dunning_block=msg.dunning_block,
    )


def _parsed(value: T | None) -> T:
    """A value whose parser returned None only beside a violation, after `v.raise_if_any()`."""
    assert value is not None
    return value


def invoice_data(msg: pb.Invoice) -> InvoiceData:
    v = Violations()
    amount = parse_money(msg.amount, "invoice.amount", v)
    lines = []
    for i, line in enumerate(msg.lines):
        lf = f"invoice.lines[{i}]"
        line_amount = parse_money(line.amount, f"{lf}.amount", v, positive=False)
        if amount and line_amount and line_amount.currency != amount.currency:
            v.add(f"{lf}.amount.currency_code", "must be the invoice currency")
        lines.append(
            (
                line_amount,
                validation.text(line.description, f"{lf}.description", v),
                validation.text(line.quantity, f"{lf}.quantity", v) or "1",
                validation.text(line.kind, f"{lf}.kind", v).upper() or "GOODS",
            )
        )
    account_id = None
    if msg.billing_account:
        parts = msg.billing_account.split("/")
        ok = len(parts) == 4 and parts[2] == "billingAccounts" and is_id(parts[3])
        v.require(
            ok, "invoice.billing_account", "must look like 'customers/{id}/billingAccounts/{id}'"
        )
        account_id = parts[3] if ok else None
    customer_id = validation.resource_id(msg.customer, "customers", "invoice.customer", v)
    number = validation.text(msg.external_number, "invoice.external_number", v, required=True)
    invoice_date = parse_date(msg.invoice_date, "invoice.invoice_date", v)
    due_date = parse_date(msg.due_date, "invoice.due_date", v)
    v.raise_if_any()
    return InvoiceData(
        customer_id=customer_id,
        external_number=number,
        invoice_date=_parsed(invoice_date),
        due_date=_parsed(due_date),
        amount=_parsed(amount),
        lines=tuple(
            InvoiceLineData(_parsed(line_amount), description, quantity, kind)
            for line_amount, description, quantity, kind in lines
        ),
        billing_account_id=account_id,
    )


def funds_data(msg, prefix: str, date_field: str, *, reference: str, reason: str = "") -> FundsData:
    v = Violations()
    customer_id = validation.resource_id(msg.customer, "customers", f"{prefix}.customer", v)
    amount = parse_money(msg.amount, f"{prefix}.amount", v)
    on = parse_date(getattr(msg, date_field), f"{prefix}.{date_field}", v)
    reference = validation.text(reference, f"{prefix}.reference", v)
    reason = validation.text(reason, f"{prefix}.reason", v)
    v.raise_if_any()
    return FundsData(customer_id, _parsed(amount), _parsed(on), reference, reason)


def allocation_request(request: pb.AllocateFundsRequest) -> AllocationRequest:
    v = Violations()
    kind, _, source_id = request.source.partition("/")
    kinds = {"payments": SourceKind.PAYMENT, "creditNotes": SourceKind.CREDIT_NOTE}
    source_kind = kinds.get(kind)
    if source_kind is None:
        v.add("source", "must be 'payments/{id}' or 'creditNotes/{id}'")
    v.require(len(request.allocations) > 0, "allocations", "at least one is required")
    allocations = []
    for i, a in enumerate(request.allocations):
        invoice_id = validation.resource_id(a.invoice, "invoices", f"allocations[{i}].invoice", v)
        amount = parse_money(a.amount, f"allocations[{i}].amount", v)
        allocations.append((invoice_id, amount))
    applied = parse_date(request.applied_date, "applied_date", v, required=False)
    v.raise_if_any()
    return AllocationRequest(
        _parsed(source_kind),
        source_id,
        tuple(AllocationData(invoice_id, _parsed(amount)) for invoice_id, amount in allocations),
        applied,
    )


def reversal_request(request: pb.ReverseAllocationRequest) -> tuple[SourceKind, str, str, str]:
    """(source kind, source id, invoice id, reason code) of a ReverseAllocation."""
    v = Violations()
    kind, _, source_id = request.source.partition("/")
    kinds = {"payments": SourceKind.PAYMENT, "creditNotes": SourceKind.CREDIT_NOTE}
    source_kind = kinds.get(kind)
    if source_kind is None or not is_id(source_id):
        v.add("source", "must be 'payments/{id}' or 'creditNotes/{id}'")
    invoice_id = validation.resource_id(request.invoice, "invoices", "invoice", v)
    reason_code = validation.code(request.reason_code.upper(), "reason_code", v)
    v.raise_if_any()
    return _parsed(source_kind), source_id, invoice_id, reason_code


def billing_account(msg: pb.BillingAccount, v: Violations) -> tuple[str, str, str]:
    """(number, display name, currency code) of a new billing account."""
    return (
        validation.text(msg.number, "billing_account.number", v, required=True),
        validation.text(msg.display_name, "billing_account.display_name", v),
        validation.currency(
            msg.currency_code.upper(), "billing_account.currency_code", v, required=False
        ),
    )


def hold_change(request, v: Violations, *, amount_required: bool) -> HoldChange:
    """The invoice, dispute and amount of PlaceHold, ReleaseHold and PostDisputeAdjustment."""
    invoice_id = validation.resource_id(request.invoice, "invoices", "invoice", v)
    dispute = validation.text(request.dispute, "dispute", v, required=True)
    v.require(bool(request.request_id), "request_id", "is required (the event id)")
    amount = parse_money(request.amount, "amount", v, required=amount_required)
    return HoldChange(invoice_id, dispute, amount)


def customer_name(name: str, field: str = "name") -> str:
    return parse_name(name, "customers", field)
