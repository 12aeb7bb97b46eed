"""Protobuf requests → validated commands. Every problem is reported as a field violation, all at
once, before anything is read or written."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from common import validation
from common.errors import InvalidArgument, Violations
from common.ids import parse_child_name, parse_name
from common.money import MINOR_UNITS, Money
from common.protoconv import parse_money, request_key
from common.rpc import batch
from common.webhooks import EndpointPolicy, check_endpoint
from services.escalation.domain.commands import RULE_FIELDS, Act, NewSubscription, Raise, RuleData
from services.escalation.domain.routing import CUSTOMER_FLAGS
from services.escalation.domain.states import Action
from services.escalation.domain.values import Severity, State, Team
from services.escalation.service.raising import RaiseItem
from settle.common.v1 import common_pb2
from settle.escalation.v1 import escalation_pb2 as pb

SUBJECT = re.compile(r"^[a-z][A-Za-z0-9]{0,40}/[A-Za-z0-9_.-]{1,100}$")
# Subjects come from identity providers; no NUL (PostgreSQL cannot store one).
PERSON = re.compile(r"^(user|rule|service):[^\s\x00]{1,190}$")
ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
UPPER_ATTRIBUTES = ("root_cause", "dispute_reason", "priority", "clock")
TRACEPARENT_MAX = 128


def team(value: int, field: str, v: Violations, *, required: bool = False) -> Team | None:
    if value == pb.TEAM_UNSPECIFIED:
        v.require(not required, field, "is required")
        return None
    try:
        return Team(pb.Team.Name(value))
    except ValueError:
        v.add(field, f"unknown team {value}")
        return None


def severity(value: int, field: str, v: Violations, *, required: bool = False) -> Severity | None:
    if value == pb.SEVERITY_UNSPECIFIED:
        v.require(not required, field, "is required")
        return None
    try:
        return Severity[pb.Severity.Name(value)]
    except (ValueError, KeyError):
        v.add(field, f"unknown severity {value}")
        return None


def _links(links, field: str, v: Violations) -> tuple[str, ...]:
    for i, link in enumerate(links):
        check_endpoint(link, f"{field}[{i}]", v)
    return tuple(links)


def escalation_id(name: str, field: str = "name") -> str:
    return parse_name(name, "escalations", field)


def raise_command(r: pb.RaiseEscalationRequest) -> Raise:
    v = Violations()
    subject = r.subject.strip()
    if not subject:
        v.add("subject", "is required (e.g. 'disputes/{id}' or 'customers/{id}')")
    elif not SUBJECT.match(subject):
        v.add("subject", "must be a resource name like 'disputes/{id}' or 'customers/{id}'")
    amount = parse_money(r.amount_at_stake, "amount_at_stake", v, required=False, positive=False)
    if amount is not None and amount.is_negative():
        v.add("amount_at_stake.amount", "must not be negative")
    raised_by = r.raised_by.strip()
    v.require(
        not raised_by or bool(PERSON.match(raised_by)),
        "raised_by",
        "must look like 'user:alice' or 'rule:sla-breach'",
    )
    cmd = Raise(
        subject=subject,
        reason_code=validation.code(r.reason_code, "reason_code", v),
        team=team(r.team, "team", v),
        severity=severity(r.severity, "severity", v),
        summary=validation.text(r.summary, "summary", v),
        amount=amount,
        raised_by=raised_by,
        trigger_event_id=validation.text(r.trigger_event_id, "trigger_event_id", v),
        attributes=_attributes(r.attributes, v),
    )
    v.raise_if_any()
    return cmd


def raise_items(r: pb.RaiseEscalationsRequest) -> list[RaiseItem | InvalidArgument]:
    """Each item validated on its own: a bad one becomes its own answer, the others go on."""
    return batch.each_checked(r.items, _raise_item)


def _raise_item(item: pb.RaiseEscalationsRequest.Item) -> RaiseItem:
    return RaiseItem(
        raise_command(item.request),
        request_key(item.request),
        item.traceparent[:TRACEPARENT_MAX],  # an invalid one: the call's span
    )


def _attributes(given, v: Violations) -> dict[str, str]:
    found = {}
    for key, value in sorted(given.items()):
        field = f"attributes[{key[:64]}]"
        if not ATTRIBUTE_KEY.match(key):
            v.add(field, "keys are lower_snake_case, at most 64 characters")
            continue
        value = validation.text(value, field, v)
        if key in CUSTOMER_FLAGS:
            v.require(value.lower() in ("true", "false"), field, "must be true or false")
            value = value.lower()
        elif key in UPPER_ATTRIBUTES:
            value = value.upper()
        found[key] = value
    return found


def act(request, action: Action) -> tuple[str, Act]:
    """Any of the custom-method requests → (escalation id, command)."""
    v = Violations()
    esc_id = escalation_id(request.name)
    fields: dict = {}
    if action is Action.ASSIGN:
        assignee = request.assignee.strip()
        v.require(
            bool(PERSON.match(assignee)) and not assignee.startswith("rule:"),
            "assignee",
            "is required, like 'user:bob'",
        )
        fields["assignee"] = assignee
    elif action is Action.REQUEST_INFO:
        fields["text"] = validation.text(request.question, "question", v, required=True)
    elif action is Action.PROVIDE_INFO:
        fields["text"] = validation.text(request.answer, "answer", v, required=True)
        fields["evidence_links"] = _links(request.evidence_links, "evidence_links", v)
    elif action in (Action.RESPOND, Action.HAND_BACK, Action.RESOLVE):
        required = action is not Action.RESOLVE
        fields["outcome_code"] = validation.code(
            request.outcome_code, "outcome_code", v, required=required
        )
        fields["note"] = validation.text(request.note, "note", v)
        fields["evidence_links"] = _links(request.evidence_links, "evidence_links", v)
    v.raise_if_any()
    return esc_id, Act(action=action, etag=request.etag, **fields)


def _min_amount(given, v: Violations) -> Money | None:
    """The currency is checked first, under its own field: Money.parse would name it "currency"."""
    if not (given.amount or given.currency_code):
        return None
    field = "routing_rule.min_amount"
    currency = validation.currency(given.currency_code.upper(), f"{field}.currency_code", v)
    if currency not in MINOR_UNITS:
        return None
    checked = common_pb2.Money(currency_code=currency, amount=given.amount)
    return parse_money(checked, field, v, required=False)


def rule_data(rule: pb.RoutingRule, v: Violations) -> RuleData:
    min_amount = _min_amount(rule.min_amount, v)
    flag = rule.customer_flag  # one of CUSTOMER_FLAGS or empty: the protos' rule
    return RuleData(
        description=validation.text(rule.description, "routing_rule.description", v),
        priority=rule.priority,
        active=rule.active,
        reason_code=validation.code(
            rule.reason_code, "routing_rule.reason_code", v, required=False
        ),
        root_cause=validation.code(rule.root_cause, "routing_rule.root_cause", v, required=False),
        dispute_reason=validation.code(
            rule.dispute_reason, "routing_rule.dispute_reason", v, required=False
        ),
        min_amount=min_amount,
        customer_flag=flag,
        team=team(rule.team, "routing_rule.team", v, required=True),
        severity=severity(rule.severity, "routing_rule.severity", v, required=True),
    )


def rule_id(name: str, field: str = "routing_rule.name") -> str:
    return parse_name(name, "routingRules", field)


def rule_update(r: pb.UpdateRoutingRuleRequest) -> tuple[str, RuleData, tuple[str, ...]]:
    """(rule id, new values, the fields to change): only the masked fields' values must be
    valid."""
    chosen = rule_id(r.routing_rule.name)
    v = Violations()
    fields = validation.update_mask(r.update_mask, RULE_FIELDS, v)
    v.raise_if_any()
    data = rule_data(r.routing_rule, v)
    v.items = [x for x in v.items if _rule_field(x.field) in fields]
    v.raise_if_any()
    return chosen, data, fields


def _rule_field(violation_field: str) -> str:
    """The rule field a violation is on: "routing_rule.min_amount.currency_code" -> "min_amount"."""
    return violation_field.removeprefix("routing_rule.").split(".")[0].split("[")[0]


def subscription(s: pb.Subscription, endpoints: EndpointPolicy) -> NewSubscription:
    v = Violations()
    chosen = team(s.team, "subscription.team", v, required=True)
    uri = s.endpoint_uri.strip()
    endpoints.check_uri(uri, "subscription.endpoint_uri", v)
    description = validation.text(s.description, "subscription.description", v)
    v.raise_if_any()
    assert chosen is not None  # required: its absence was a violation
    return NewSubscription(chosen, uri, s.secret, description)


def subscription_id(name: str, field: str = "name") -> str:
    return parse_name(name, "subscriptions", field)


def delivery_name(name: str) -> tuple[str, str]:
    return parse_child_name(name, "subscriptions", "deliveries")


# --- list filters -----------------------------------------------------------------------------
def _enum_name(kind):
    def convert(text: str) -> str:
        return kind(text.upper()).value

    return convert


def _severity_rank(text: str) -> int:
    try:
        return int(Severity[text.upper()])
    except KeyError:
        raise ValueError(f"must be one of {', '.join(s.name for s in Severity)}") from None


def _days(text: str) -> int:
    days = int(text)
    if not 0 <= days <= 36500:
        raise ValueError("must be 0 to 36500")
    return days


ESCALATION_FILTERS: dict[str, Callable[[str], Any]] = {
    "team": _enum_name(Team),
    "state": _enum_name(State),
    "severity": _severity_rank,
    "subject": str,
    "reason_code": str,
    "assignee": str,
    "create_time": validation.rfc3339,
    "due_time": validation.rfc3339,
    "age_days": _days,
}
ESCALATION_ORDER = {"create_time", "update_time", "severity", "due_time"}
DELIVERY_FILTERS: dict[str, Callable[[str], Any]] = {
    "state": lambda s: {"PENDING": "PENDING", "DELIVERED": "DELIVERED", "FAILED": "FAILED"}[s],
    "event_type": str,
}
