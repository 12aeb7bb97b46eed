"""What callers ask for, already validated at the edge: plain values the use cases act on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from common.money import Money
from services.escalation.domain.states import Action
from services.escalation.domain.values import Severity, Team


@dataclass(frozen=True)
class Raise:
    subject: str
    reason_code: str
    team: Team | None  # None: the routing rules choose
    severity: Severity | None
    summary: str
    amount: Money | None
    raised_by: str  # empty: the caller
    trigger_event_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Act:
    """One workflow step on an escalation; which fields matter depends on the action."""

    action: Action
    etag: str = ""
    assignee: str = ""
    text: str = ""  # the question (REQUEST_INFO) or the answer (PROVIDE_INFO)
    outcome_code: str = ""
    note: str = ""
    evidence_links: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleData:
    description: str
    priority: int
    active: bool
    reason_code: str
    root_cause: str
    dispute_reason: str
    min_amount: Money | None
    customer_flag: str
    team: Team | None
    severity: Severity | None


RULE_FIELDS = (
    "description",
    "priority",
    "active",
    "reason_code",
    "root_cause",
    "dispute_reason",
    "min_amount",
    "customer_flag",
    "team",
    "severity",
)


@dataclass(frozen=True)
class NewSubscription:
    team: Team
    endpoint_uri: str
    secret: str = field(repr=False)  # reprs end up in tracebacks, tracebacks in logs
    description: str = ""
