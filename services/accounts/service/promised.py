"""What open promises take out of each invoice's collectible figure, read and placed by the one
rule of domain/collectible.py; the invoice replies, the customer balance and the worklist all
subtract these figures, so they agree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from services.accounts.data import collections_reads as reads
from services.accounts.domain import promises as rules
from services.accounts.domain.collectible import OpenItem, PromiseCover, promised_per_invoice


@dataclass(frozen=True)
class Promised:
    per_invoice: dict[str, int]  # invoice id -> promised minor units placed on it
    owners: dict[str, tuple[str, str]]  # invoice id -> (customer id, currency)

    def on(self, invoice_id: str) -> int:
        return self.per_invoice.get(invoice_id, 0)

    def by_customer(self) -> dict[tuple[str, str], int]:
        """(customer id, currency) -> the sum placed on its invoices."""
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for invoice_id, amount in self.per_invoice.items():
            sums[self.owners[invoice_id]] += amount
        return dict(sums)


NOTHING_PROMISED = Promised({}, {})


async def promised_on(conn, customer_ids: list[str]) -> Promised:
    """The placement over every invoice of these customers (invoices not covered are absent)."""
    if not customer_ids:
        return NOTHING_PROMISED
    promises = await reads.open_promises(conn, customer_ids)
    if not promises:
        return NOTHING_PROMISED
    covered = await reads.covered_invoices(conn, customer_ids)
    items, links, owners = {}, defaultdict(list), {}
    for c in covered:
        items[c.invoice_id] = OpenItem(c.invoice_id, c.due_date, c.open_minor, c.held_minor)
        owners[c.invoice_id] = (c.customer_id, c.currency)
        links[c.promise_id].append(c.invoice_id)
    covers = [
        PromiseCover(
            p.id,
            max(0, p.amount_minor - rules.paid_toward(int(p.paid_minor), int(p.earlier_minor))),
            tuple(links[p.id]),
        )
        for p in promises
    ]
    return Promised(promised_per_invoice(items, covers), owners)
