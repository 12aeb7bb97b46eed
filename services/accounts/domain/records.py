"""What callers ask the accounts service to record: validated values, free of protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from common.money import Money


class RiskClass(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class SourceKind(StrEnum):
    """What reduces an invoice's open amount in its ledger."""

    PAYMENT = "PAYMENT"
    CREDIT_NOTE = "CREDIT_NOTE"
    WRITE_OFF = "WRITE_OFF"
    REVERSAL = "REVERSAL"  # takes back one allocation; its source_id is that allocation's id


@dataclass(frozen=True)
class ContactData:
    name: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""
    role: str = ""


@dataclass(frozen=True)
class CustomerData:
    display_name: str
    external_ref: str | None = None
    country_code: str = ""
    time_zone: str = "UTC"
    currency_code: str = ""
    risk_class: RiskClass = RiskClass.MEDIUM
    credit_limit: Money | None = None
    bankruptcy: bool = False
    in_litigation: bool = False
    credit_hold: bool = False
    contacts: tuple[ContactData, ...] = ()
    dunning_block: bool = False


CUSTOMER_FIELDS = (
    "display_name",
    "external_ref",
    "country_code",
    "time_zone",
    "currency_code",
    "risk_class",
    "credit_limit",
    "bankruptcy",
    "in_litigation",
    "credit_hold",
    "contacts",
    "dunning_block",
)


@dataclass(frozen=True)
class InvoiceLineData:
    amount: Money
    description: str = ""
    quantity: str = "1"
    kind: str = "GOODS"


@dataclass(frozen=True)
class InvoiceData:
    customer_id: str
    external_number: str
    invoice_date: date
    due_date: date
    amount: Money
    lines: tuple[InvoiceLineData, ...] = ()
    billing_account_id: str | None = None


@dataclass(frozen=True)
class FundsData:
    """A payment received or a credit note issued."""

    customer_id: str
    amount: Money
    on: date
    reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AllocationData:
    invoice_id: str
    amount: Money


@dataclass(frozen=True)
class AllocationRequest:
    source_kind: SourceKind
    source_id: str
    allocations: tuple[AllocationData, ...] = field(default_factory=tuple)
    applied_date: date | None = None
