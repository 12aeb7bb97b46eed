"""How much of each invoice open promises cover, so the one to-collect arithmetic can subtract it
per invoice: a promise names invoices and an amount, and covers them oldest due first, each up to
what is open and not held on it (a held cent is never counted twice)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def covered_per_invoice(
    promises: Iterable[tuple[int, Sequence[str]]], room: Mapping[str, int]
) -> dict[str, int]:
    """`promises`: (amount still promised, its invoice ids oldest due first); `room`: per invoice
    the open amount not held. Answers per invoice the promised amount, never above its room."""
    covered: dict[str, int] = {}
    for amount, invoice_ids in promises:
        left = max(0, amount)
        for invoice_id in invoice_ids:
            if left == 0:
                break
            free = room.get(invoice_id, 0) - covered.get(invoice_id, 0)
            take = min(left, max(0, free))
            if take:
                covered[invoice_id] = covered.get(invoice_id, 0) + take
                left -= take
    return covered
