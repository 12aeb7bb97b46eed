"""Checks a new case against what accounts says about its customer and invoices.

Pure: the facts are fetched by the service (over gRPC) and handed in, with what this service's
own open cases already dispute on each invoice (holds that accounts may not have received yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from common.errors import FailedPrecondition, Violations
from common.money import Money


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: str
    customer_id: str
    number: str
    currency: str
    open_minor: int
    held_minor: int
    lines: Mapping[int, int]  # line number → amount minor


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    risk_class: str
    bankruptcy: bool = False
    in_litigation: bool = False


@dataclass(frozen=True)
class ItemRequest:
    invoice_id: str
    amount: Money | None = None
    line_numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class PlannedItem:
    invoice_id: str
    invoice_number: str
    amount_minor: int
    line_numbers: tuple[int, ...]


def _field(n: int, name: str = "invoice") -> str:
    return f"dispute.items[{n}].{name}"


def plan_items(
    customer_id: str,
    items: tuple[ItemRequest, ...],
    invoices: Mapping[str, InvoiceFacts],
    disputed_here: Mapping[str, int],
) -> tuple[str, list[PlannedItem]]:
    """Returns (currency, items with their disputed amounts) or raises.

    Malformed requests are INVALID_ARGUMENT naming the field; asking for more than an invoice's
    collectible amount (open − held, counting holds this service still has to deliver) is
    FAILED_PRECONDITION: the request is fine, the invoice's state does not allow it.
    """
    v = Violations()
    currencies = {inv.currency for inv in invoices.values()}
    planned = []
    for n, item in enumerate(items):
        inv = invoices[item.invoice_id]
        if inv.customer_id != customer_id:
            v.add(_field(n), f"invoice {inv.number} belongs to another customer")
            continue
        if len(currencies) > 1:
            v.add(_field(n), f"is in {inv.currency}; a case covers invoices of one currency")
            continue
        amount = _amount(n, item, inv, v)
        if amount is not None:
            planned.append(PlannedItem(inv.invoice_id, inv.number, amount, item.line_numbers))
    v.raise_if_any()
    for n, p in enumerate(planned):
        inv = invoices[p.invoice_id]
        held = max(inv.held_minor, disputed_here.get(p.invoice_id, 0))
        collectible = inv.open_minor - held
        if p.amount_minor > collectible:
            raise FailedPrecondition(
                f"invoice {inv.number}: disputing {Money(p.amount_minor, inv.currency)} exceeds "
                f"its collectible amount {Money(max(collectible, 0), inv.currency)}",
                reason="EXCEEDS_COLLECTIBLE",
                metadata={"field": _field(n), "open_minor": inv.open_minor, "held_minor": held},
            )
    return currencies.pop(), planned


def _amount(n: int, item: ItemRequest, inv: InvoiceFacts, v: Violations) -> int | None:
    line_sum = None
    if item.line_numbers:
        unknown = [ln for ln in item.line_numbers if ln not in inv.lines]
        if unknown:
            v.add(_field(n, "line_numbers"), f"invoice {inv.number} has no line(s) {unknown}")
            return None
        if len(set(item.line_numbers)) != len(item.line_numbers):
            v.add(_field(n, "line_numbers"), "lists a line twice")
            return None
        line_sum = sum(inv.lines[ln] for ln in item.line_numbers)
        if line_sum <= 0:
            v.add(_field(n, "line_numbers"), "the lines must add up to more than zero")
            return None
    if item.amount is not None:
        if item.amount.currency != inv.currency:
            v.add(_field(n, "amount.currency_code"), f"must be the invoice currency {inv.currency}")
            return None
        if line_sum is not None and item.amount.minor != line_sum:
            v.add(_field(n, "amount"), "must equal the sum of the disputed lines")
            return None
        return item.amount.minor
    if line_sum is not None:
        return line_sum
    if inv.open_minor <= 0:
        v.add(_field(n), f"invoice {inv.number} has nothing open to dispute")
        return None
    return inv.open_minor  # the whole invoice: what is open on it
