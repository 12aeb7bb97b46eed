"""Routing: which team gets an escalation and how severe it is, decided by rules held as data.

Rules are tried lowest priority number first (ties by id, so the order is stable); the first rule
whose every stated condition holds decides. A condition left empty always holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from common.errors import InvalidArgument
from common.money import Money
from services.escalation.domain.values import Severity, Team

CUSTOMER_FLAGS = ("bankruptcy", "in_litigation")
DEFAULT_SEVERITY = Severity.MEDIUM


@dataclass(frozen=True)
class Facts:
    """What the raiser told us; attribute keys as in RaiseEscalationRequest.attributes."""

    reason_code: str
    attributes: Mapping[str, str]
    amount: Money | None = None

    def flag(self, name: str) -> bool:
        return self.attributes.get(name, "").strip().lower() == "true"


@dataclass(frozen=True)
class Rule:
    id: str
    priority: int
    team: Team
    severity: Severity
    reason_code: str = ""
    root_cause: str = ""
    dispute_reason: str = ""
    min_amount: Money | None = None
    customer_flag: str = ""

    def matches(self, facts: Facts) -> bool:
        attrs = facts.attributes
        return (
            (not self.reason_code or self.reason_code == facts.reason_code)
            and (not self.root_cause or self.root_cause == attrs.get("root_cause", ""))
            and (not self.dispute_reason or self.dispute_reason == attrs.get("dispute_reason", ""))
            and (not self.customer_flag or facts.flag(self.customer_flag))
            and (self.min_amount is None or _at_least(facts.amount, self.min_amount))
        )


def _at_least(amount: Money | None, threshold: Money) -> bool:
    # Another currency never matches: amounts are not compared without a rate.
    return amount is not None and amount.currency == threshold.currency and amount >= threshold


@dataclass(frozen=True)
class Decision:
    team: Team
    severity: Severity
    rule_id: str | None  # the rule that decided anything, for the record


def route(
    rules: Iterable[Rule], facts: Facts, team: Team | None, severity: Severity | None
) -> Decision:
    """What the raiser named wins; the rules fill in the rest."""
    if team is not None and severity is not None:
        return Decision(team, severity, None)
    ordered = sorted(rules, key=lambda r: (r.priority, r.id))
    candidates = [r for r in ordered if team is None or r.team == team]
    rule = next((r for r in candidates if r.matches(facts)), None)
    if rule is None:
        if team is None:
            raise InvalidArgument.of(
                "team",
                f"no routing rule matches reason {facts.reason_code!r} and these "
                "attributes; name a team",
            )
        return Decision(team, severity or DEFAULT_SEVERITY, None)
    return Decision(rule.team, severity or rule.severity, rule.id)
