"""The worklist: which customers a collector should contact now, ranked by an explainable score.

A strategy (data, versioned) is a list of rules; a rule gives its points when a customer's fact
lies within [min, max]. The score is the sum of the matched rules' points, and the item lists
exactly those contributions, so a collector can read why a customer ranks where it does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

from common.errors import Violations
from common.money import currency_exponent
from services.accounts.domain.collectible import to_collect

FACTS = (
    "oldest_overdue_days",
    "overdue_amount",
    "broken_promises",
    "promise_due_today",
    "call_back_due",
    "days_since_contact",
    "open_disputes",
    "credit_hold",
    "bankruptcy",
    "in_litigation",
    "risk_class",
    "dunning_phone_task",
)
RISK_CLASSES = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
MAX_RULES = 100
# A bound's largest magnitude: in the smallest unit of any currency (10^-4) it stays a BIGINT, so
# the database compares whole numbers (Rule.bounds_in).
MAX_BOUND = Decimal(10) ** 14

# Why a customer is not on the list (or that it is).
ON_LIST = "ON_LIST"
NOT_ASSIGNED = "NOT_ASSIGNED"
ASSIGNED_TO_OTHER = "ASSIGNED_TO_OTHER"
NOTHING_TO_COLLECT = "NOTHING_TO_COLLECT"
DONE_TODAY = "DONE_TODAY"
CALL_BACK_SCHEDULED = "CALL_BACK_SCHEDULED"


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    fact: str
    min: Decimal | None
    max: Decimal | None
    points: int

    def matches(self, value: Decimal | int | None) -> bool:
        """None is a fact without an upper bound (never contacted): it meets any minimum."""
        if value is None:
            return self.max is None
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def bounds_in(self, exponent: int) -> tuple[int | None, int | None]:
        """[min, max] for a whole-number fact counted in units of 10^-exponent (an amount in its
        currency's minor units; a count, 0): such an n matches exactly when low ≤ n ≤ high
        (None: no bound), so the database ranks with whole numbers, as `matches` decides."""
        scale = 10**exponent
        low = None if self.min is None else math.ceil(Fraction(self.min) * scale)
        high = None if self.max is None else math.floor(Fraction(self.max) * scale)
        return low, high

    @cached_property
    def contribution(self) -> Contribution:
        """What the rule adds to an item it matches (one object, shared by every item)."""
        return Contribution(self.code, self.label, self.points)


@dataclass(frozen=True)
class Strategy:
    version: int  # 0: rules being simulated, not stored
    rules: tuple[Rule, ...]


def parse_rule(
    code: str, label: str, fact: str, low: str, high: str, points: int, v: Violations, where: str
) -> Rule:
    v.require(fact in FACTS, f"{where}.fact", f"must be one of {', '.join(FACTS)}")
    bounds = []
    for name, text in (("min", low), ("max", high)):
        try:
            bound = Decimal(text) if text.strip() else None
        except InvalidOperation:
            bound = Decimal("NaN")
        if bound is not None and not (bound.is_finite() and abs(bound) <= MAX_BOUND):
            v.add(f"{where}.{name}", f"must be a decimal number within ±{MAX_BOUND:,f}, or empty")
            bound = None
        bounds.append(bound)
    low_d, high_d = bounds
    v.require(
        low_d is None or high_d is None or low_d <= high_d, f"{where}.max", "must not be below min"
    )
    return Rule(code, label or code, fact, low_d, high_d, points)


class CustomerFacts(NamedTuple):
    """What the worklist knows of a customer, read in one set-based statement (data/). A named
    tuple: a ranking builds one per customer of a book (~500), a frozen dataclass costs ~3× more
    to build."""

    customer_id: str
    display_name: str
    collector: str
    currency: str
    open_minor: int
    held_minor: int
    promised_minor: (
        int  # placed on its invoices by open promises (collectible.promised_per_invoice)
    )
    overdue_minor: int  # open − held of the invoices past due
    oldest_due: date | None  # of the overdue invoices with something collectible
    broken_promises: int
    promise_due_today: bool
    last_contact_at: datetime | None
    call_back_at: datetime | None  # of the latest interaction
    open_disputes: int  # disputes holding an amount on its invoices
    credit_hold: bool
    bankruptcy: bool
    in_litigation: bool
    risk_class: str
    # The dunning ladder's latest phone task; open until a contact after it.
    phone_task_at: datetime | None = None

    def amount_to_collect(self) -> int:
        return to_collect(self.open_minor, self.held_minor, self.promised_minor)


@dataclass(frozen=True)
class Contribution:
    rule: str
    label: str
    points: int


@dataclass(frozen=True)
class WorklistItem:
    facts: CustomerFacts
    score: int
    contributions: tuple[Contribution, ...]
    to_collect_minor: int
    now: datetime  # of the ranking: what is due is due as of it

    @cached_property
    def _action(self) -> tuple[str, str]:
        # on demand: a ranking scores every customer of a book, a reply shows one page of them
        return _next_action(self.facts, self.now, self.contributions)

    @property
    def next_action(self) -> str:
        return self._action[0]

    @property
    def reason(self) -> str:
        return self._action[1]


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency)) if currency else Decimal(minor)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _call_back_due(f: CustomerFacts, now: datetime) -> bool:
    return f.call_back_at is not None and f.call_back_at <= now


def fact_values(f: CustomerFacts, now: datetime, today: date) -> dict[str, Decimal | int | None]:
    """Whole-number facts stay ints (they compare exactly with a rule's Decimal bounds, and a
    ranking builds ~12 per customer); the amount is a Decimal in major units."""
    since = None if f.last_contact_at is None else (today - f.last_contact_at.date()).days
    return {
        "oldest_overdue_days": (today - f.oldest_due).days if f.oldest_due else 0,
        "overdue_amount": _major(f.overdue_minor, f.currency),
        "broken_promises": f.broken_promises,
        "promise_due_today": int(f.promise_due_today),
        "call_back_due": int(_call_back_due(f, now)),
        "days_since_contact": since,
        "open_disputes": f.open_disputes,
        "credit_hold": int(f.credit_hold),
        "bankruptcy": int(f.bankruptcy),
        "in_litigation": int(f.in_litigation),
        "risk_class": RISK_CLASSES.get(f.risk_class, 0),
        "dunning_phone_task": int(_phone_task_open(f)),
    }


def _phone_task_open(f: CustomerFacts) -> bool:
    return f.phone_task_at is not None and (
        f.last_contact_at is None or f.last_contact_at < f.phone_task_at
    )


def absence_reasons(f: CustomerFacts, now: datetime, today: date) -> list[str]:
    """Empty when the customer belongs on the list now; otherwise why not."""
    if _call_back_due(f, now):
        return []  # a due call-back brings it back, even after a contact today
    if f.call_back_at is not None:
        return [CALL_BACK_SCHEDULED]
    reasons = []
    if f.last_contact_at is not None and f.last_contact_at >= start_of(today):
        reasons.append(DONE_TODAY)
    if f.amount_to_collect() == 0 and not f.promise_due_today:
        reasons.append(NOTHING_TO_COLLECT)
    return reasons


def _next_action(f: CustomerFacts, now: datetime, contributions: Sequence[Contribution]):
    if _call_back_due(f, now):
        assert f.call_back_at is not None
        return "CALL_BACK", f"call-back due since {f.call_back_at:%Y-%m-%d %H:%M} UTC"
    if _phone_task_open(f):
        assert f.phone_task_at is not None
        return (
            "DUNNING_CALL",
            f"the dunning ladder asks for a call since {f.phone_task_at:%Y-%m-%d}",
        )
    if f.promise_due_today:
        return "CHECK_PROMISE", "a promise to pay falls due today"
    if f.broken_promises:
        return "FOLLOW_UP_BROKEN_PROMISE", f"{f.broken_promises} broken promise(s) to pay"
    top = sorted(contributions, key=lambda c: -c.points)[:3]
    return "CALL", ", ".join(f"{c.label} {c.points:+d}" for c in top) or "amount to collect"


def score(f: CustomerFacts, strategy: Strategy, now: datetime, today: date) -> WorklistItem:
    values = fact_values(f, now, today)
    contributions = tuple([r.contribution for r in strategy.rules if r.matches(values[r.fact])])
    return WorklistItem(
        f, sum([c.points for c in contributions]), contributions, f.amount_to_collect(), now
    )


class RankingDrift(Exception):
    """The database scored a customer differently from its rules here: the two expressions of a
    rule's meaning (`Rule.matches`, data/worklist_rank.py) have drifted apart. A bug, never shown
    as a ranking."""


def ranked_item(
    f: CustomerFacts, strategy: Strategy, now: datetime, today: date, ranked_score: int
) -> WorklistItem:
    """An item of a page the database ranked, explained by the same rules: its contributions
    must add up to the score the database ranked it by."""
    item = score(f, strategy, now, today)
    if item.score != ranked_score:
        raise RankingDrift(
            f"customer {f.customer_id}: ranked with {ranked_score} points, its rules give "
            f"{item.score}"
        )
    return item


def rank(
    facts: Iterable[CustomerFacts], strategy: Strategy, now: datetime, today: date
) -> tuple[list[WorklistItem], int]:
    """(the items on the list, best first; how many were done today). Ties: the larger amount
    to collect, then the customer id, so the order is the same on every call. The definition
    data/worklist_rank.py compiles into SQL (ListWorklist and SimulateStrategy rank in the
    database); tests/accounts/data/test_worklist_rank.py holds the two equal."""
    items, done = [], 0
    for f in facts:
        reasons = absence_reasons(f, now, today)
        if DONE_TODAY in reasons:
            done += 1
        if not reasons:
            items.append(score(f, strategy, now, today))
    items.sort(key=lambda i: (-i.score, -i.to_collect_minor, i.facts.customer_id))
    return items, done


@dataclass(frozen=True)
class CollectorDay:
    to_contact: int  # on the list now
    done: int  # contacted today, no call-back due

    @property
    def size(self) -> int:
        return self.to_contact + self.done

    @property
    def completion(self) -> float:
        """done ÷ size; an empty list is complete."""
        return self.done / self.size if self.size else 1.0


def day_by_collector(
    facts: Iterable[CustomerFacts], now: datetime, today: date
) -> dict[str, CollectorDay]:
    """Per collector, the same on-list and done-today decisions `rank` makes."""
    counts: dict[str, list[int]] = {}
    for f in facts:
        reasons = absence_reasons(f, now, today)
        slot = counts.setdefault(f.collector, [0, 0])
        slot[0] += not reasons
        slot[1] += DONE_TODAY in reasons
    return {c: CollectorDay(n, d) for c, (n, d) in counts.items()}


def explain(
    f: CustomerFacts | None,
    assigned_to: str | None,
    collector: str,
    strategy: Strategy,
    now: datetime,
    today: date,
) -> tuple[list[str], WorklistItem | None]:
    if assigned_to is None:
        return [NOT_ASSIGNED], None
    if assigned_to != collector:
        return [ASSIGNED_TO_OTHER], None
    assert f is not None
    reasons = absence_reasons(f, now, today)
    return (reasons, None) if reasons else ([ON_LIST], score(f, strategy, now, today))
