"""A rule's meaning in whole numbers (what the database compares) and the check that a page the
database ranked is explained by the same rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.accounts.domain.worklist import (
    CustomerFacts,
    RankingDrift,
    Rule,
    Strategy,
    ranked_item,
)


def _bound(rnd: random.Random) -> Decimal | None:
    if rnd.random() < 0.3:
        return None
    return Decimal(rnd.randint(-400, 400)).scaleb(-rnd.randint(0, 6))


def test_a_rule_s_whole_number_bounds_match_as_its_decimal_bounds():
    """For a value counted in units of 10^-e (minor units; e = 0: a count), n lies within
    bounds_in(e) exactly when n × 10^-e matches the rule, fractions and negatives included."""
    rnd = random.Random(7)
    for _ in range(300):
        low, high = _bound(rnd), _bound(rnd)
        if low is not None and high is not None and low > high:
            low, high = high, low
        rule = Rule("R", "r", "overdue_amount", low, high, 1)
        exponent = rnd.choice((0, 2, 3, 4))
        whole_low, whole_high = rule.bounds_in(exponent)
        for n in range(-450, 450):
            inside = (whole_low is None or n >= whole_low) and (
                whole_high is None or n <= whole_high
            )
            assert rule.matches(Decimal(n).scaleb(-exponent)) == inside, (rule, n, exponent)


def test_an_item_whose_rules_do_not_give_the_database_s_score_is_refused():
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    facts = CustomerFacts(
        "c" * 32, "Acme", "user:carl", "EUR", 100_000, 0, 0, 100_000, None, 2, False,
        None, None, 0, False, False, False, "HIGH",
    )  # fmt: skip
    strategy = Strategy(1, (Rule("BROKEN", "broken", "broken_promises", Decimal(1), None, 40),))
    assert ranked_item(facts, strategy, now, now.date(), 40).score == 40
    with pytest.raises(RankingDrift):
        ranked_item(facts, strategy, now, now.date(), 45)
