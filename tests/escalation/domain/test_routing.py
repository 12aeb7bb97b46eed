"""Routing rules, pure: first match by priority; a named team or severity wins; amounts compare
only in their own currency."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InvalidArgument
from common.money import Money
from services.escalation.domain.routing import DEFAULT_SEVERITY, Facts, Rule, route
from services.escalation.domain.values import Severity, Team

RULES = [
    Rule("legal", 10, Team.LEGAL, Severity.HIGH, customer_flag="bankruptcy"),
    Rule("rc-billing", 30, Team.GBS, Severity.MEDIUM, root_cause="BILLING_ERROR"),
    Rule("dr-pricing", 40, Team.SALES, Severity.MEDIUM, dispute_reason="PRICING"),
    Rule("big", 35, Team.TEAM_LEAD, Severity.CRITICAL, min_amount=Money.parse("10000", "EUR")),
    Rule("breach", 90, Team.TEAM_LEAD, Severity.HIGH, reason_code="SLA_BREACH"),
]


def facts(reason="SLA_BREACH", amount=None, **attributes) -> Facts:
    return Facts(reason, attributes, amount)


def test_first_match_by_priority_decides():
    d = route(RULES, facts(root_cause="BILLING_ERROR", dispute_reason="PRICING"), None, None)
    assert (d.team, d.severity, d.rule_id) == (Team.GBS, Severity.MEDIUM, "rc-billing")
    d = route(RULES, facts(dispute_reason="PRICING", bankruptcy="true"), None, None)
    assert d.team is Team.LEGAL
    d = route(RULES, facts(dispute_reason="QTY_SHORT"), None, None)
    assert (d.team, d.rule_id) == (Team.TEAM_LEAD, "breach")


def test_amount_threshold_is_inclusive_and_only_in_its_currency():
    at = facts(amount=Money.parse("10000.00", "EUR"), dispute_reason="PRICING")
    assert route(RULES, at, None, None).rule_id == "big"
    below = facts(amount=Money.parse("9999.99", "EUR"), dispute_reason="PRICING")
    assert route(RULES, below, None, None).rule_id == "dr-pricing"
    usd = facts(amount=Money.parse("50000", "USD"), dispute_reason="PRICING")
    assert route(RULES, usd, None, None).rule_id == "dr-pricing"


def test_what_the_raiser_names_wins():
    # Only GBS's rules count when GBS is named; none matches, so the default severity.
    d = route(RULES, facts(dispute_reason="PRICING"), Team.GBS, None)
    assert (d.team, d.severity, d.rule_id) == (Team.GBS, DEFAULT_SEVERITY, None)
    d = route(RULES, facts(root_cause="BILLING_ERROR"), Team.GBS, None)
    assert (d.team, d.severity, d.rule_id) == (Team.GBS, Severity.MEDIUM, "rc-billing")
    d = route(RULES, facts(reason="MANUAL"), Team.GBS, None)
    assert (d.team, d.severity, d.rule_id) == (Team.GBS, DEFAULT_SEVERITY, None)
    d = route(RULES, facts(root_cause="BILLING_ERROR"), None, Severity.LOW)
    assert (d.team, d.severity) == (Team.GBS, Severity.LOW)
    d = route(RULES, facts(), Team.SALES, Severity.CRITICAL)
    assert (d.team, d.severity, d.rule_id) == (Team.SALES, Severity.CRITICAL, None)


def test_no_match_and_no_team_is_invalid():
    with pytest.raises(InvalidArgument) as info:
        route(RULES, facts(reason="SOMETHING"), None, None)
    assert info.value.violations[0].field == "team"


def test_flags_need_the_word_true():
    assert route(RULES, facts(bankruptcy="TRUE "), None, None).team is Team.LEGAL
    assert route(RULES, facts(bankruptcy="yes"), None, None).team is Team.TEAM_LEAD


@given(
    st.permutations(RULES),
    st.sampled_from(["SLA_BREACH", "SLA_WARNING", "X"]),
    st.dictionaries(
        st.sampled_from(["root_cause", "dispute_reason", "bankruptcy"]),
        st.sampled_from(["BILLING_ERROR", "PRICING", "true", "false"]),
    ),
)
def test_the_order_rules_are_stored_in_never_matters(rules, reason, attributes):
    def decide(given_rules):
        try:
            return route(given_rules, Facts(reason, attributes), None, None)
        except InvalidArgument:
            return None

    assert decide(rules) == decide(RULES)
