"""Hand-over to Legal: the trigger rule, the snapshot of amounts at hand-over, and the states that
follow Legal's answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from common.errors import FailedPrecondition, InvalidArgument
from services.accounts.domain.dunning import CustomerFlags, InvoicePosition
from services.accounts.domain.legal import (
    TRANSITIONS,
    LegalState,
    LegalTrigger,
    answer,
    open_case,
    snapshot,
    trigger,
)

AT = datetime(2026, 7, 1, 10, tzinfo=UTC)
L = LegalState


@pytest.mark.parametrize(
    ("flags", "level", "expected"),
    [
        (CustomerFlags(bankruptcy=True, in_litigation=True), True, LegalTrigger.BANKRUPTCY),
        (CustomerFlags(in_litigation=True), False, LegalTrigger.IN_LITIGATION),
        (CustomerFlags(), True, LegalTrigger.LADDER_LEGAL_LEVEL),
        (CustomerFlags(dunning_block=True), False, None),
        (CustomerFlags(), False, None),
    ],
)
def test_what_hands_an_account_to_legal(flags, level, expected):
    assert trigger(flags, legal_level_reached=level, has_active_case=False) == expected


def test_an_account_already_with_legal_is_not_handed_over_twice():
    flags = CustomerFlags(bankruptcy=True)
    assert trigger(flags, legal_level_reached=True, has_active_case=True) is None


def test_the_snapshot_keeps_the_amounts_at_hand_over_and_what_legal_takes():
    invoices = [
        InvoicePosition("i2", "B-2", date(2026, 3, 1), 50_000, held_minor=20_000,
                        promised_minor=10_000),
        InvoicePosition("i1", "A-1", date(2026, 1, 1), 80_000, in_legal_minor=80_000),
        InvoicePosition("i3", "C-3", date(2026, 2, 1), 0),
    ]  # fmt: skip
    taken = snapshot(date(2026, 7, 1), "EUR", invoices)
    assert [line.number for line in taken.lines] == ["A-1", "B-2"]  # oldest first, paid left out
    assert [line.to_collect_minor for line in taken.lines] == [80_000, 20_000]
    assert (taken.open_minor, taken.held_minor, taken.to_collect_minor) == (130_000, 20_000,
                                                                            100_000)  # fmt: skip


def test_legal_answers_move_the_case_and_the_account_follows():
    case = open_case(
        case_id="lc-1",
        customer_id="c-1",
        reason=LegalTrigger.BANKRUPTCY,
        snapshots=[snapshot(date(2026, 7, 1), "EUR", [])],
        at=AT,
        by="system",
    )
    assert case.state is L.HANDED_OVER and case.active
    filed = answer(case, L.CLAIM_FILED, at=AT, by="legal", note="claim 44/26 filed")
    agency = answer(filed, L.AGENCY_ASSIGNED, at=AT, by="legal", note="Acme Collect")
    settled = answer(agency, L.SETTLED, at=AT, by="legal", note="60 % accepted")
    assert settled.active  # dunning stays suspended until Legal closes it
    closed = answer(settled, L.CLOSED, at=AT, by="legal", note="")
    assert not closed.active
    assert [e.state for e in closed.history] == [
        L.HANDED_OVER, L.CLAIM_FILED, L.AGENCY_ASSIGNED, L.SETTLED, L.CLOSED
    ]  # fmt: skip
    with pytest.raises(FailedPrecondition) as refused:
        answer(closed, L.CLAIM_FILED, at=AT, by="legal", note="")
    assert refused.value.reason == "LEGAL_CASE_STATE"


@pytest.mark.parametrize("state", list(L))
@pytest.mark.parametrize("reached", list(L))
def test_every_answer_follows_the_table(state, reached):
    case = open_case(case_id="lc", customer_id="c", reason=LegalTrigger.IN_LITIGATION,
                     snapshots=[], at=AT, by="s")  # fmt: skip
    case = replace(case, state=state)
    if reached in TRANSITIONS[state]:
        assert answer(case, reached, at=AT, by="l", note="").state is reached
    else:
        with pytest.raises(FailedPrecondition):
            answer(case, reached, at=AT, by="l", note="")


def test_one_snapshot_per_currency():
    eur = snapshot(date(2026, 7, 1), "EUR", [])
    with pytest.raises(InvalidArgument):
        open_case(case_id="x", customer_id="c", reason=LegalTrigger.BANKRUPTCY,
                  snapshots=[eur, eur], at=AT, by="s")  # fmt: skip
