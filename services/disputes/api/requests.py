"""Protobuf requests → validated domain values. Every problem of a request is reported at once as
a field violation; nothing here touches the database."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from common import validation
from common.errors import InvalidArgument, Violations
from common.money import Money
from common.protoconv import parse_date, parse_money, request_key
from common.rpc import batch
from common.tracing import context_from
from services.disputes.domain.intake import ItemRequest
from services.disputes.domain.policies import (
    CalendarSpec,
    Policy,
    Priority,
    Target,
    TimeUnit,
    escalating_after,
)
from services.disputes.domain.waterfall import Decision, Outcome
from services.disputes.service.escalation_records import RecordItem
from services.disputes.service.intake import NewDispute
from services.disputes.service.workflow import TEAMS
from settle.disputes.v1 import disputes_pb2 as pb

MILESTONE = re.compile(r"BREACH|WARNING_[1-9][0-9]?")
RISK_CLASSES = ("LOW", "MEDIUM", "HIGH")
TRACEPARENT_MAX = 128  # dispute_history.traceparent
OWNING_TEAMS = ("SALES", "GBS", "LOGISTICS", "OPERATIONS", "LEGAL", "CUSTOMER", "NONE")


def dispute_id(name: str, field: str = "name") -> str:
    v = Violations()
    found = validation.resource_id(name, "disputes", field, v)
    v.raise_if_any()
    return found


def code(value: str, field: str, v: Violations, *, required=True) -> str:
    """common.validation.code on the upper-cased value: codes are given in any case."""
    return validation.code(value.upper(), field, v, required=required)


def priority(value: int, field: str, v: Violations) -> Priority:
    if value == pb.PRIORITY_UNSPECIFIED:
        return Priority.MEDIUM
    if value not in pb.Priority.values():
        v.add(field, "is not a priority")
        return Priority.MEDIUM
    return Priority(pb.Priority.Name(value))


def new_dispute(msg: pb.Dispute) -> NewDispute:
    v = Violations()
    items = []
    seen = set()
    for n, item in enumerate(msg.items):
        f = f"dispute.items[{n}]"
        invoice_id = validation.resource_id(item.invoice, "invoices", f"{f}.invoice", v)
        v.require(invoice_id not in seen or not invoice_id, f"{f}.invoice", "is listed twice")
        seen.add(invoice_id)
        amount = parse_money(item.amount, f"{f}.amount", v, required=False)
        items.append(ItemRequest(invoice_id, amount, tuple(item.line_numbers)))
    data = NewDispute(
        customer_id=validation.resource_id(msg.customer, "customers", "dispute.customer", v),
        title=validation.text(msg.title, "dispute.title", v, required=True),
        reason_code=code(msg.reason_code, "dispute.reason_code", v),
        priority=priority(msg.priority, "dispute.priority", v),
        items=tuple(items),
        external_ref=validation.text(msg.external_ref, "dispute.external_ref", v),
        assignee=validation.text(msg.assignee, "dispute.assignee", v),
        coordinator=validation.text(msg.coordinator, "dispute.coordinator", v),
        first_note=validation.text(msg.first_note, "dispute.first_note", v),
    )
    v.raise_if_any()
    return data


def outcome(value: int, v: Violations) -> Outcome | None:
    if value == pb.OUTCOME_UNSPECIFIED or value not in pb.Outcome.values():
        v.add("outcome", "is required" if value == pb.OUTCOME_UNSPECIFIED else "is not an outcome")
        return None
    return Outcome(pb.Outcome.Name(value))


def decisions(msgs, v: Violations) -> tuple[Decision, ...]:
    result = []
    for n, d in enumerate(msgs):
        f = f"decisions[{n}]"
        invoice_id = validation.resource_id(d.invoice, "invoices", f"{f}.invoice", v)
        credit = parse_money(d.credit_amount, f"{f}.credit_amount", v, required=False)
        write_off = parse_money(d.write_off_amount, f"{f}.write_off_amount", v, required=False)
        result.append(Decision(invoice_id, _minor(credit), _minor(write_off)))
    return tuple(result)


def _minor(m: Money | None) -> int:
    return m.minor if m else 0


def mask(value: str, allowed: Iterable[str]) -> tuple[str, ...]:
    """The update mask's snake_case paths (common.validation.update_mask), refused on its own:
    the rest of the request is read against it."""
    v = Violations()
    paths = validation.update_mask(value, allowed, v)
    v.raise_if_any()
    return paths


def timestamp_filter(value: str) -> datetime:
    """RFC 3339 instant, or a date meaning midnight UTC."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-03-01T09:00:00Z")
    return moment.astimezone(UTC)


def enum_name(enum, value: str) -> str:
    names = [k for k in list(enum.keys()) if not k.endswith("UNSPECIFIED")]
    if value not in names:
        raise ValueError(f"must be one of {names}")
    return value


def policy(msg: pb.SlaPolicy, policy_id: str) -> tuple[Policy, str]:
    v = Violations()
    f = lambda name: f"sla_policy.{name}"  # noqa: E731
    v.require(msg.clock != pb.CLOCK_KIND_UNSPECIFIED, f("clock"), "is required")
    v.require(msg.target.value > 0, f("target.value"), "must be greater than zero")
    v.require(msg.target.unit != pb.TIME_UNIT_UNSPECIFIED, f("target.unit"), "is required")
    reasons = [code(r, f("reason_codes"), v) for r in msg.reason_codes]
    priorities = [priority(p, f("priorities"), v).value for p in msg.priorities]
    risks = [r.strip().upper() for r in msg.risk_classes]
    v.require(
        all(r in RISK_CLASSES for r in risks), f("risk_classes"), f"must be in {RISK_CLASSES}"
    )
    lo = parse_money(msg.min_amount, f("min_amount"), v, required=False, positive=False)
    hi = parse_money(msg.max_amount, f("max_amount"), v, required=False, positive=False)
    if lo and hi:
        v.require(
            lo.currency == hi.currency, f("max_amount"), "must be in the currency of min_amount"
        )
        v.require(
            lo.currency != hi.currency or lo < hi, f("max_amount"), "must be above min_amount"
        )
    warnings = tuple(msg.warning_percents) or (50, 75)
    rules = {r.milestone.strip().upper(): r.escalate for r in msg.milestones}
    v.require(
        all(MILESTONE.fullmatch(name) for name in rules),
        f("milestones"),
        "must name 'BREACH' or 'WARNING_<percent>'",
    )
    calendar = ""
    if msg.calendar:
        calendar = msg.calendar.removeprefix("calendars/")
    v.raise_if_any()
    bound = lo or hi
    return Policy(
        id=policy_id,
        clock=pb.ClockKind.Name(msg.clock),
        target=Target(msg.target.value, TimeUnit(pb.TimeUnit.Name(msg.target.unit))),
        reason_codes=frozenset(reasons),
        priorities=frozenset(priorities),
        risk_classes=frozenset(risks),
        amount_currency=bound.currency if bound else None,
        min_amount_minor=lo.minor if lo else None,
        max_amount_minor=hi.minor if hi else None,
        warning_percents=tuple(sorted(set(warnings))),
        calendar_id=calendar or None,
        precedence=msg.precedence,
        active=msg.active,
        escalating=escalating_after(rules),
    ), validation.text(msg.display_name, f("display_name"), v)


def calendar(msg: pb.Calendar, calendar_id: str) -> CalendarSpec:
    v = Violations()
    hours: dict[int, list[tuple[str, str]]] | None = None
    if msg.working_hours:
        hours = {}
        for wh in msg.working_hours:
            hours.setdefault(wh.day_of_week, []).append((wh.start, wh.end))
    dates = {}
    for name in ("extra_holidays", "extra_working_days"):
        dates[name] = tuple(
            filter(
                None,
                (
                    parse_date(d, f"calendar.{name}[{n}]", v)
                    for n, d in enumerate(getattr(msg, name))
                ),
            )
        )
    customer = None
    if msg.customer:
        customer = validation.resource_id(msg.customer, "customers", "calendar.customer", v)
    team = msg.team.strip().upper()
    v.require(bool(msg.time_zone), "calendar.time_zone", "is required")
    v.raise_if_any()
    try:
        spec = CalendarSpec(
            id=calendar_id,
            time_zone=msg.time_zone,
            hours=hours,
            country=msg.country_code.upper() or None,
            subdivision=msg.subdivision or None,
            extra_holidays=dates["extra_holidays"],
            extra_working_days=dates["extra_working_days"],
            customer_id=customer,
            team=team or None,
            display_name=msg.display_name.strip(),  # at most 200: the proto's bound
        )
        spec.build()
    except InvalidArgument as exc:  # name the request's fields
        raise InvalidArgument(
            exc.message,
            violations=[type(x)(f"calendar.{x.field}", x.description) for x in exc.violations],
        ) from None
    return spec


def record_item(r: pb.RecordEscalationRequest, traceparent: str | None = None) -> RecordItem:
    """RecordEscalation's request; `traceparent` is a batch item's (an invalid one: the call's)."""
    v = Violations()
    case_id = validation.resource_id(r.dispute, "disputes", "dispute", v)
    v.require(
        r.escalation.startswith("escalations/") and 12 < len(r.escalation) <= 64,
        "escalation",
        "must look like 'escalations/{id}'",
    )
    team = r.team.strip().upper()
    v.require(team in TEAMS, "team", f"must be one of {TEAMS}")
    v.require(bool(r.request_id), "request_id", "is required (the event id)")
    v.raise_if_any()
    trace = (traceparent or "")[:TRACEPARENT_MAX]
    return RecordItem(
        case_id, r.escalation, team, request_key(r), trace if context_from(trace) else None
    )


def record_items(r: pb.RecordEscalationsRequest) -> list[RecordItem | InvalidArgument]:
    """Each item validated on its own: a bad one becomes its own answer, the others go on."""
    return batch.each_checked(r.items, lambda item: record_item(item.request, item.traceparent))
