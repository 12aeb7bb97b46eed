"""The placement of open promises over their invoices (domain/collectible.py)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.accounts.domain.collectible import (
    OpenItem,
    PromiseCover,
    promised_per_invoice,
    to_collect,
)

DAY = date(2026, 1, 1)


def test_oldest_due_first_capped_at_open_less_held():
    items = {
        "new": OpenItem("new", DAY + timedelta(days=30), 300, 0),
        "old": OpenItem("old", DAY, 1_000, 0),
        "held": OpenItem("held", DAY + timedelta(days=10), 500, 200),
    }
    placed = promised_per_invoice(items, [PromiseCover("p", 1_100, ("new", "held", "old"))])
    assert placed == {"old": 1_000, "held": 100}


def test_an_earlier_promise_is_placed_first_and_the_rest_cannot_overfill():
    items = {"a": OpenItem("a", DAY, 500, 0)}
    covers = [PromiseCover("first", 400, ("a",)), PromiseCover("second", 400, ("a",))]
    assert promised_per_invoice(items, covers) == {"a": 500}


_items = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 10_000), st.integers(0, 10_000)),
    min_size=1,
    max_size=6,
)


@given(_items, st.lists(st.tuples(st.integers(0, 30_000), st.sets(st.integers(0, 5))), max_size=4))
def test_placement_never_exceeds_a_promise_or_an_invoice(raw_items, raw_promises):
    items = {
        f"i{n}": OpenItem(f"i{n}", DAY + timedelta(days=d), open_, min(held, open_))
        for n, (d, open_, held) in enumerate(raw_items)
    }
    covers = [
        PromiseCover(f"p{n}", remaining, tuple(f"i{k}" for k in sorted(keys)))
        for n, (remaining, keys) in enumerate(raw_promises)
    ]
    placed = promised_per_invoice(items, covers)
    assert sum(placed.values()) <= sum(c.remaining_minor for c in covers)
    for invoice_id, amount in placed.items():
        item = items[invoice_id]
        assert 0 < amount <= item.open_minor - item.held_minor
        # the per-invoice figures sum to the customer's: nothing is clipped twice
        assert to_collect(item.open_minor, item.held_minor, amount) == (
            item.open_minor - item.held_minor - amount
        )
