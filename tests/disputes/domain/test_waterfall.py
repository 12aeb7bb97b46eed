"""The amount waterfall holds through every resolution, and intake refuses over-disputing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import FailedPrecondition, InvalidArgument
from common.money import Money
from services.disputes.domain.intake import InvoiceFacts, ItemRequest, plan_items
from services.disputes.domain.waterfall import (
    Decision,
    Outcome,
    Waterfall,
    WaterfallBroken,
    release_all,
    settlements,
)

amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def case_and_outcome(draw):
    still = draw(st.dictionaries(st.sampled_from("abcdef"), amounts, min_size=1, max_size=6))
    outcome = draw(st.sampled_from(list(Outcome)))
    decisions = []
    if outcome is Outcome.PARTIAL:
        for invoice, amount in still.items():
            credit = draw(st.integers(0, amount))
            write_off = draw(st.integers(0, amount - credit))
            decisions.append(Decision(invoice, credit, write_off))
        if not any(d.credit or d.write_off for d in decisions):
            first = next(iter(still))
            decisions[0] = Decision(first, 1, 0)
    return still, outcome, decisions


@given(case_and_outcome())
def test_every_resolution_empties_still_disputed_and_keeps_the_invariant(args):
    still, outcome, decisions = args
    falls = {i: Waterfall.opened(a) for i, a in still.items()}
    for s in settlements(outcome, still, decisions):
        falls[s.invoice_id] = falls[s.invoice_id].settle(
            credit=s.credit, write_off=s.write_off, pay=s.pay
        )
    for invoice, fall in falls.items():
        assert fall.still == 0
        assert fall.original == still[invoice] == fall.paid + fall.credited + fall.written_off
    credited = sum(f.credited for f in falls.values())
    if outcome in (Outcome.CREDITED, Outcome.REBILLED):
        assert credited == sum(still.values())
    if outcome in (Outcome.CUSTOMER_PAYS, Outcome.WITHDRAWN, Outcome.DUPLICATE):
        assert sum(f.paid for f in falls.values()) == sum(still.values())


@given(amounts, st.integers(0, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_settling_more_than_is_disputed_is_refused_and_nothing_moves(
    original, credit, write_off, pay
):
    fall = Waterfall.opened(original)
    if credit + write_off + pay > original:
        with pytest.raises(FailedPrecondition):
            fall.settle(credit=credit, write_off=write_off, pay=pay)
    else:
        after = fall.settle(credit=credit, write_off=write_off, pay=pay)
        assert after.still + after.paid + after.credited + after.written_off == original


def test_a_broken_waterfall_cannot_exist():
    with pytest.raises(WaterfallBroken):
        Waterfall(original=100, still=50, paid=10)
    with pytest.raises(WaterfallBroken):
        Waterfall(original=100, still=110, paid=-10)


def test_partial_needs_decisions_and_others_refuse_them():
    with pytest.raises(InvalidArgument):
        settlements(Outcome.PARTIAL, {"a": 10}, [])
    with pytest.raises(InvalidArgument):
        settlements(Outcome.CREDITED, {"a": 10}, [Decision("a", 5)])
    with pytest.raises(InvalidArgument):
        settlements(Outcome.PARTIAL, {"a": 10}, [Decision("a", 8, 3)])
    assert release_all({"a": 10, "b": 0}) == [r for r in release_all({"a": 10})]


@given(open_=amounts, held=st.integers(0, 10**12), mine=st.integers(0, 10**12), ask=amounts)
def test_intake_never_disputes_more_than_collectible(open_, held, mine, ask):
    held = min(held, open_)
    facts = {"i": InvoiceFacts("i", "c", "N1", "EUR", open_, held, {})}
    item = (ItemRequest("i", Money(ask, "EUR")),)
    collectible = open_ - max(held, mine)
    if ask <= collectible:
        _, planned = plan_items("c", item, facts, {"i": mine})
        assert planned[0].amount_minor == ask
    else:
        with pytest.raises(FailedPrecondition) as info:
            plan_items("c", item, facts, {"i": mine})
        assert info.value.reason == "EXCEEDS_COLLECTIBLE"
