"""The dunning decision: which level, which lines, which skip reason; and, for any books, a notice
never chases a held, promised, legal or claimed cent, its total is the sum of its lines and no
figure is negative."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import InvalidArgument
from services.accounts.domain.dunning import (
    ChaseCounts,
    CustomerFlags,
    InvoicePosition,
    Notice,
    NoticeKey,
    PreviousNotice,
    Skip,
    SkipReason,
    decide,
    decide_without_books,
)
from services.accounts.domain.ladder import DEFAULT_LADDER

TODAY = date(2026, 6, 30)
CUSTOMER = "0190a1b2c3d4e5f60718293a4b5c6d7e"


def invoice(number: str, days_past_due: int, open_minor: int, **amounts: int) -> InvoicePosition:
    return InvoicePosition(
        invoice_id=f"inv-{number}",
        number=number,
        due_date=TODAY - timedelta(days=days_past_due),
        open_minor=open_minor,
        **amounts,
    )


def run(invoices, *, flags=CustomerFlags(), cash=0, previous=(), currency="EUR", today=TODAY):
    return decide(
        customer_id=CUSTOMER,
        currency=currency,
        invoices=invoices,
        flags=flags,
        unallocated_cash_minor=cash,
        previous=previous,
        ladder=DEFAULT_LADDER,
        business_date=today,
    )


def test_a_partly_disputed_partly_promised_invoice_is_chased_for_exactly_the_rest():
    decision = run([invoice("A-1", 20, 100_000, held_minor=30_000, promised_minor=50_000)])
    assert isinstance(decision, Notice)
    assert decision.level.code == "REMINDER"  # +15 reached, +30 not yet
    (line,) = decision.lines
    assert (line.open_minor, line.in_dispute_minor, line.promised_minor) == (
        100_000,
        30_000,
        50_000,
    )
    assert line.due_now_minor == 20_000 and decision.total_minor == 20_000
    assert decision.key == NoticeKey(CUSTOMER, "EUR", 3, TODAY)
    assert decision.key.text == f"dun.{CUSTOMER}.EUR.3.20260630"


def test_one_level_per_notice_the_highest_reached_and_every_overdue_invoice_listed():
    decision = run(
        [
            invoice("OLD", 47, 10_000),
            invoice("NEW", 2, 5_000),
            invoice("HELD", 20, 7_000, held_minor=7_000),
        ]
    )
    assert isinstance(decision, Notice) and decision.level.code == "FINAL"
    assert [line.number for line in decision.lines] == ["OLD", "HELD", "NEW"]  # oldest first
    assert [line.due_now_minor for line in decision.lines] == [10_000, 0, 5_000]
    assert decision.total_minor == 15_000
    assert decision.dunned_invoice_ids == {"inv-OLD", "inv-NEW"}  # the held one is only shown


def test_a_pre_due_reminder_speaks_only_of_invoices_not_yet_due():
    decision = run([invoice("SOON", -2, 4_000)])
    assert isinstance(decision, Notice) and decision.level.code == "PRE_DUE"
    overdue_too = run([invoice("SOON", -2, 4_000), invoice("LATE", 3, 9_000)])
    assert isinstance(overdue_too, Notice) and overdue_too.level.code == "FRIENDLY"
    assert [line.number for line in overdue_too.lines] == ["LATE"]
    assert run([invoice("FAR", -10, 4_000)]) == Skip(SkipReason.NOTHING_DUNNABLE)


@pytest.mark.parametrize("flag", ["bankruptcy", "in_litigation", "dunning_block"])
def test_a_flagged_customer_is_never_dunned(flag):
    decision = run([invoice("A", 50, 100_000)], flags=CustomerFlags(**{flag: True}))
    assert decision == Skip(SkipReason.CUSTOMER_FLAGGED, flag)


def test_nothing_dunnable_when_every_due_cent_is_held_promised_with_legal_or_claimed():
    books = [
        invoice("H", 20, 1_000, held_minor=1_000),
        invoice("P", 20, 1_000, promised_minor=1_000),
        invoice("L", 20, 1_000, in_legal_minor=1_000),
        invoice("C", 20, 1_000, claimed_paid_minor=1_000),
        invoice("MIX", 20, 1_000, held_minor=600, promised_minor=600),  # over-covered: zero
    ]
    assert run(books) == Skip(SkipReason.NOTHING_DUNNABLE)
    assert run([]) == Skip(SkipReason.NOTHING_DUNNABLE)


def test_unallocated_cash_that_covers_the_total_skips_and_less_does_not():
    books = [invoice("A", 20, 10_000)]
    assert run(books, cash=10_000).reason == SkipReason.COVERED_BY_UNALLOCATED_CASH
    partly = run(books, cash=9_999)
    assert isinstance(partly, Notice) and partly.unallocated_cash_minor == 9_999


def test_below_the_levels_tolerance_for_the_currency_nothing_is_sent():
    assert run([invoice("A", 20, 499)]).reason == SkipReason.BELOW_TOLERANCE  # EUR 5.00
    assert isinstance(run([invoice("A", 20, 500)]), Notice)
    assert run([invoice("A", 20, 499)], currency="JPY").reason == SkipReason.BELOW_TOLERANCE
    assert isinstance(run([invoice("A", 20, 1)], currency="SEK"), Notice)  # no tolerance set


def test_a_level_is_sent_once_per_invoice_and_the_next_one_waits_for_its_pacing():
    books = [invoice("A", 20, 10_000)]
    first = run(books)
    assert isinstance(first, Notice) and first.level.number == 3
    sent = PreviousNotice(3, TODAY, first.dunned_invoice_ids)
    assert run(books, previous=[sent]) == Skip(SkipReason.NO_NEW_LEVEL)  # a rerun sends nothing

    later = TODAY + timedelta(days=10)  # 30 days past due: FIRM, 10 days after the last notice
    assert isinstance(run(books, previous=[sent], today=later), Notice)
    with_new = [*books, invoice("B", 21, 1_000)]  # B reaches FIRM a day sooner than A
    assert run(with_new, previous=[sent], today=TODAY + timedelta(days=9)).reason == (
        SkipReason.TOO_SOON
    )


def test_a_new_invoice_brings_a_notice_at_the_most_serious_level_listed():
    old = invoice("OLD", 50, 10_000)
    previous = [PreviousNotice(5, TODAY - timedelta(days=5), frozenset({"inv-OLD"}))]
    assert run([old], previous=previous) == Skip(SkipReason.NO_NEW_LEVEL)
    new = invoice("NEW", 12, 3_000)  # reaches FRIENDLY; OLD keeps the notice at FINAL's pacing
    assert run([old, new], previous=previous).reason == SkipReason.TOO_SOON
    decision = run([old, new], previous=previous, today=TODAY + timedelta(days=5))
    assert isinstance(decision, Notice) and decision.level.code == "FINAL"
    assert decision.total_minor == 13_000


def test_never_two_notices_on_one_business_date_even_for_a_level_without_pacing():
    books = [invoice("SOON", -1, 4_000), invoice("LATE", 3, 9_000)]
    first = run(books)
    assert isinstance(first, Notice) and first.level.code == "FRIENDLY"
    sent = PreviousNotice(first.level.number, TODAY, first.dunned_invoice_ids)
    assert run(books, previous=[sent]).reason == SkipReason.TOO_SOON  # PRE_DUE waits a day
    tomorrow = run(books, previous=[sent], today=TODAY + timedelta(days=1))
    assert isinstance(tomorrow, Notice) and tomorrow.level.code == "PRE_DUE"


def test_the_key_refuses_a_customer_id_that_is_not_safe_in_a_file_name():
    with pytest.raises(InvalidArgument):
        NoticeKey("../x", "EUR", 1, TODAY)


def test_a_notice_for_the_ladder_version_it_was_decided_under():
    decision = run([invoice("A", 100, 10_000)])
    assert isinstance(decision, Notice)
    assert (decision.ladder_id, decision.ladder_version, decision.level.code) == (
        "default",
        1,
        "LEGAL",
    )


amounts = st.integers(min_value=0, max_value=10**12)
positions = st.builds(
    lambda n, days, open_, held, promised, legal, claimed: invoice(
        f"N{n}", days, open_, held_minor=held, promised_minor=promised,
        in_legal_minor=legal, claimed_paid_minor=claimed,
    ),
    st.integers(0, 10**6),
    st.integers(-30, 200),
    amounts,
    amounts,
    amounts,
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)  # fmt: skip
books_strategy = st.lists(positions, max_size=12).map(
    lambda books: [replace(b, invoice_id=f"inv-{i}") for i, b in enumerate(books)]
)


@settings(max_examples=300, deadline=None)
@given(books_strategy, st.integers(0, 10**9))
def test_property_never_a_held_promised_legal_or_claimed_cent_and_totals_add_up(books, cash):
    decision = run(books, cash=cash)
    if isinstance(decision, Skip):
        return
    by_id = {b.invoice_id: b for b in books}
    for line in decision.lines:
        source = by_id[line.invoice_id]
        chaseable = (
            source.open_minor
            - source.held_minor
            - source.promised_minor
            - source.in_legal_minor
            - source.claimed_paid_minor
        )
        assert 0 <= line.due_now_minor <= max(chaseable, 0)
        assert line.due_now_minor == max(chaseable, 0)
    assert decision.total_minor == sum(line.due_now_minor for line in decision.lines)
    assert decision.total_minor > cash >= 0
    assert decision.total_minor >= decision.level.tolerance_for("EUR")


@settings(max_examples=200, deadline=None)
@given(books_strategy)
def test_property_recording_a_notice_makes_the_same_day_rerun_send_nothing(books):
    decision = run(books)
    if isinstance(decision, Skip):
        return
    sent = PreviousNotice(decision.level.number, TODAY, decision.dunned_invoice_ids)
    assert isinstance(run(books, previous=[sent]), Skip)


def _counts(books, previous=(), promised=False, today=TODAY) -> ChaseCounts:
    """What data/dunning_batch.chase_counts reads in SQL for these books."""
    last: dict[str, int] = {}
    for notice in previous:
        for invoice_id in notice.invoice_ids:
            last[invoice_id] = max(last.get(invoice_id, 0), notice.level)
    chaseable = fresh = 0
    for b in books:
        reached = DEFAULT_LADDER.reached((today - b.due_date).days)
        if reached is None or b.open_minor <= b.held_minor:
            continue
        chaseable += 1
        fresh += reached.number > last.get(b.invoice_id, 0)
    return ChaseCounts(chaseable, fresh, promised)


@settings(max_examples=300, deadline=None)
@given(books_strategy, st.sampled_from([CustomerFlags(), CustomerFlags(dunning_block=True)]))
def test_property_what_the_counts_settle_decide_answers_alike(books, flags):
    """Without promises, legal or claimed amounts (what a run's books carry but promises), the
    counts read in SQL settle a decision exactly as `decide` over the books would, before and
    after a notice is recorded; with an open promise they settle only what needs no amounts."""
    books = [replace(b, promised_minor=0, in_legal_minor=0, claimed_paid_minor=0) for b in books]
    first = run(books, flags=flags)
    settled = decide_without_books(flags, _counts(books))
    assert settled is None or settled == first
    if isinstance(first, Skip):
        return
    sent = [PreviousNotice(first.level.number, TODAY, first.dunned_invoice_ids)]
    tomorrow = TODAY + timedelta(days=1)
    later = run(books, previous=sent, today=tomorrow)
    settled = decide_without_books(flags, _counts(books, sent, today=tomorrow))
    assert settled is None or settled == later
    promised = decide_without_books(flags, _counts(books, sent, promised=True, today=tomorrow))
    assert promised is None or promised.reason in {
        SkipReason.CUSTOMER_FLAGGED, SkipReason.NOTHING_DUNNABLE,
    }  # fmt: skip


def test_a_customer_with_a_new_level_or_a_promise_is_read_the_rest_settled_by_counts():
    assert decide_without_books(CustomerFlags(), ChaseCounts(0, 0, True)) == Skip(
        SkipReason.NOTHING_DUNNABLE
    )
    assert decide_without_books(CustomerFlags(), ChaseCounts(3, 0, False)) == Skip(
        SkipReason.NO_NEW_LEVEL
    )
    assert decide_without_books(CustomerFlags(), ChaseCounts(3, 1, False)) is None
    assert decide_without_books(CustomerFlags(), ChaseCounts(3, 0, True)) is None
    assert decide_without_books(CustomerFlags(bankruptcy=True), ChaseCounts(3, 3, True)) == Skip(
        SkipReason.CUSTOMER_FLAGGED, "bankruptcy"
    )
