"""Protobuf requests → validated domain values. Every problem of a request is reported at once
as a field violation; nothing here touches the database."""

from __future__ import annotations

import re
import zoneinfo

from common.errors import Violations
from common.ids import is_id, parse_name
from common.money import currency_exponent
from common.protoconv import parse_date, parse_money
from services.accounts.domain.records import (
    CUSTOMER_FIELDS,
    ContactData,
    CustomerData,
    FundsData,
    InvoiceData,
    InvoiceLineData,
    RiskClass,
)
from settle.accounts.v1 import accounts_pb2 as pb

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_TEXT = 200


def _text(value: str, field: str, v: Violations, *, required=False, limit=MAX_TEXT) -> str:
    value = value.strip()
    v.require(bool(value) or not required, field, "is required")
    v.require(len(value) <= limit, field, f"must be at most {limit} characters")
    v.require("\x00" not in value, field, "must not contain NUL characters")
    return value


def currency(code: str, field: str, v: Violations, *, required=True) -> str:
    if not code:
        v.require(not required, field, "is required")
        return ""
    try:
        currency_exponent(code)
    except Exception:
        v.add(field, "is not an ISO 4217 currency code")
    return code


def name_id(name: str, collection: str, field: str, v: Violations) -> str:
    prefix = f"{collection}/"
    if name.startswith(prefix) and is_id(name[len(prefix) :]):
        return name[len(prefix) :]
    v.add(field, f"must look like '{collection}/{{id}}'" if name else "is required")
    return ""


def customer_data(msg: pb.Customer, v: Violations, prefix: str = "customer") -> CustomerData:
    f = lambda name: f"{prefix}.{name}"  # noqa: E731
    country = msg.country_code.strip().upper()
    v.require(
        not country or bool(_COUNTRY.match(country)),
        f("country_code"),
        "must be ISO 3166-1 alpha-2",
    )
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
                name=_text(c.name, f"{cf}.name", v),
                email=c.email.strip(),
                phone=_text(c.phone, f"{cf}.phone", v, limit=50),
                language=c.language.strip(),
                role=_text(c.role, f"{cf}.role", v),
            )
        )
    risk = pb.RiskClass.Name(msg.risk_class) if msg.risk_class else "MEDIUM"
    return CustomerData(
        display_name=_text(msg.display_name, f("display_name"), v, required=True),
        external_ref=_text(msg.external_ref, f("external_ref"), v, limit=100) or None,
        country_code=country,
        time_zone=tz,
        currency_code=currency(msg.currency_code, f("currency_code"), v, required=False),
        risk_class=RiskClass(risk),
        credit_limit=parse_money(
            msg.credit_limit, f("credit_limit"), v, required=False, positive=False
        ),
        bankruptcy=msg.bankruptcy,
        in_litigation=msg.in_litigation,
        credit_hold=msg.credit_hold,
        contacts=tuple(contacts),
    )


def update_mask(mask: str, v: Violations) -> tuple[str, ...]:
    if not mask.strip():
        return CUSTOMER_FIELDS
    paths = tuple(p.strip() for p in mask.split(",") if p.strip())
    for p in paths:
        v.require(p in CUSTOMER_FIELDS, "update_mask", f"'{p}' is not an updatable field")
    return paths


def invoice_data(msg: pb.Invoice, v: Violations) -> InvoiceData:
    amount = parse_money(msg.amount, "invoice.amount", v)
    lines = []
    for i, line in enumerate(msg.lines):
        lf = f"invoice.lines[{i}]"
        line_amount = parse_money(line.amount, f"{lf}.amount", v, positive=False)
        if amount and line_amount and line_amount.currency != amount.currency:
            v.add(f"{lf}.amount.currency_code", "must be the invoice currency")
        lines.append(
            InvoiceLineData(
                amount=line_amount,
                description=_text(line.description, f"{lf}.description", v, limit=500),
                quantity=line.quantity or "1",
                kind=(line.kind or "GOODS").upper(),
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
    return InvoiceData(
        customer_id=name_id(msg.customer, "customers", "invoice.customer", v),
        external_number=_text(
            msg.external_number, "invoice.external_number", v, required=True, limit=64
        ),
        invoice_date=parse_date(msg.invoice_date, "invoice.invoice_date", v),
        due_date=parse_date(msg.due_date, "invoice.due_date", v),
        amount=amount,
        lines=tuple(lines),
        billing_account_id=account_id,
    )


def funds_data(
    msg, prefix: str, date_field: str, v: Violations, *, reference: str, reason: str = ""
) -> FundsData:
    return FundsData(
        customer_id=name_id(msg.customer, "customers", f"{prefix}.customer", v),
        amount=parse_money(msg.amount, f"{prefix}.amount", v),
        on=parse_date(getattr(msg, date_field), f"{prefix}.{date_field}", v),
        reference=_text(reference, f"{prefix}.reference", v),
        reason=_text(reason, f"{prefix}.reason", v),
    )


def customer_name(name: str, field: str = "name") -> str:
    return parse_name(name, "customers", field)
