"""The one arithmetic of what is still to collect (DOMAIN.md, "Figures, defined once"): the same
figure drives the invoice's collectible amount, the customer's balance, the worklist, dunning and
every "collectible" column.

An open promise takes its *remaining* amount out of what is chased, invoice by invoice:
- remaining = the promise's amount less what payments allocated to its invoices since it was taken
  already count toward it (`promises.paid_toward`: an instalment counts only what the plan's
  earlier instalments left);
- the remaining amount is spread over the invoices the promise covers, **oldest due date first**
  (then invoice id), each invoice taking at most its open − held less what earlier promises
  already took from it;
- promises are spread in deadline order (then id), so the one judged first is covered first.
What cannot be placed (the invoices were paid or put in dispute since) takes nothing out: a
promise never makes an invoice's figure negative. The customer's figure is the sum of its
invoices' figures, so the invoice, the customer and the worklist always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date


def to_collect(
    open_minor: int,
    held_minor: int,
    promised_minor: int,
    in_legal_minor: int = 0,
    claimed_paid_minor: int = 0,
) -> int:
    """open − held (disputes) − covered by open promises − in legal − claimed as paid, never
    below zero. Minor units of one currency."""
    return max(0, open_minor - held_minor - promised_minor - in_legal_minor - claimed_paid_minor)


@dataclass(frozen=True)
class OpenItem:
    """An invoice as the promise allocation sees it."""

    invoice_id: str
    due_date: date
    open_minor: int
    held_minor: int


@dataclass(frozen=True)
class PromiseCover:
    """An OPEN promise: what of it is still expected, and on which invoices."""

    promise_id: str
    remaining_minor: int
    invoice_ids: tuple[str, ...]


def promised_per_invoice(
    items: Mapping[str, OpenItem], promises: Iterable[PromiseCover]
) -> dict[str, int]:
    """Invoice id -> the part of open promises placed on it (module docstring: the rule).
    `promises` arrive in deadline order; invoices a promise names but `items` lacks take nothing."""
    placed: dict[str, int] = {}
    for promise in promises:
        left = promise.remaining_minor
        covered = sorted(
            (items[i] for i in promise.invoice_ids if i in items),
            key=lambda item: (item.due_date, item.invoice_id),
        )
        for item in covered:
            if left <= 0:
                break
            room = max(0, item.open_minor - item.held_minor - placed.get(item.invoice_id, 0))
            take = min(room, left)
            if take:
                placed[item.invoice_id] = placed.get(item.invoice_id, 0) + take
                left -= take
    return placed
