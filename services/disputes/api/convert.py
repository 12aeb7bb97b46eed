"""Rows and views → protobuf messages."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from common.errors import DomainError
from common.etag import etag_of
from common.money import format_minor
from common.protoconv import minor_pb, timestamp
from common.rpc.status import error_status
from services.disputes.data.admin_reads import CalendarRecord, SlaPolicyRecord
from services.disputes.data.models import (
    DisputeItemRow,
    EvidenceRow,
    HistoryRow,
    NoteRow,
    ReasonCodeRow,
    RootCauseRow,
)
from services.disputes.domain import durations
from services.disputes.domain.policies import thresholds
from services.disputes.service.calendars import spec_of
from services.disputes.service.case_trace import CaseTraceView, ClockEventView
from services.disputes.service.escalation_records import Recorded
from services.disputes.service.views import ClockView, DisputeView
from settle.disputes.v1 import disputes_pb2 as pb

SERVICE = "disputes"  # the ErrorInfo domain's prefix, as the server interceptor's
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
# Enum numbers by name: EnumTypeWrapper.Value() is a Python call per lookup.
CLOCK_KINDS = dict(pb.ClockKind.items())
CLOCK_STATES = dict(pb.SlaClock.State.items())
TIME_UNITS = dict(pb.TimeUnit.items())
PRIORITIES = dict(pb.Priority.items())
STATUSES = dict(pb.Dispute.Status.items())
SLA_STATES = dict(pb.SlaState.items())
OUTCOMES = dict(pb.Outcome.items())
PAUSE_REASONS = dict(pb.PauseReason.items())

# Hot messages (a case, its items and clocks) are filled in place: a sub-message passed to a
# constructor is built and then copied, which costs three times as much.


def set_time(field: Timestamp, value: datetime) -> None:
    """Fills a Timestamp field from an aware datetime (as Timestamp.FromDatetime, exactly)."""
    since = value - EPOCH
    field.seconds = since.days * 86400 + since.seconds
    field.nanos = since.microseconds * 1000


def set_duration(field: Duration, value: timedelta) -> None:
    """Fills a Duration field (as Duration.FromTimedelta: seconds and nanos share the sign)."""
    seconds, micros = divmod(abs(value // US), 1_000_000)
    sign = -1 if value < timedelta(0) else 1
    field.seconds, field.nanos = sign * seconds, sign * micros * 1000


def set_money(field, minor: int, currency: str) -> None:
    field.currency_code, field.amount = currency, _amount_text(minor, currency)


# A listed page formats ~550 amounts, mostly the same few (0.00, each item's amount); typed, so
# that a bool is refused as format_minor refuses it rather than answered as the int 1.
_amount_text = functools.lru_cache(maxsize=4096, typed=True)(format_minor)


def duration(value: timedelta) -> Duration:
    d = Duration()
    set_duration(d, value)
    return d


def fill_item(msg: pb.DisputedItem, row: DisputeItemRow, cur: str) -> None:
    msg.invoice, msg.invoice_number = f"invoices/{row.invoice_id}", row.invoice_number
    if row.line_numbers:
        msg.line_numbers.extend(int(n) for n in row.line_numbers.split(",") if n)
    set_money(msg.amount, row.original_minor, cur)
    set_money(msg.original_amount, row.original_minor, cur)
    set_money(msg.still_disputed_amount, row.still_minor, cur)
    set_money(msg.paid_amount, row.paid_minor, cur)
    set_money(msg.credited_amount, row.credited_minor, cur)
    set_money(msg.written_off_amount, row.written_off_minor, cur)


def fill_clock(msg: pb.SlaClock, v: ClockView) -> None:
    row, reading = v.row, v.reading
    msg.kind, msg.state = CLOCK_KINDS[row.kind], CLOCK_STATES[row.status]
    msg.warned = any(n.startswith("WARNING") for n in v.fired)
    msg.breached = "BREACH" in v.fired
    if row.pause_reason:
        msg.pause_reason = PAUSE_REASONS[row.pause_reason]
    msg.policy, msg.calendar = f"slaPolicies/{row.policy_id}", f"calendars/{row.calendar_id}"
    msg.target.value, msg.target.unit = row.target_value, TIME_UNITS[row.target_unit]
    set_duration(msg.target_duration, v.clock.target)
    set_time(msg.start_time, row.started_at)
    set_duration(msg.business_time_spent, reading.spent)
    set_duration(msg.business_time_remaining, reading.remaining)
    set_duration(msg.paused_time, v.clock.paused_total)
    if reading.due_at is not None:
        set_time(msg.due_time, reading.due_at)
    if row.stopped_at is not None:
        set_time(msg.stop_time, row.stopped_at)


def clock(v: ClockView) -> pb.SlaClock:
    msg = pb.SlaClock()
    fill_clock(msg, v)
    return msg


def note(row: NoteRow) -> pb.Note:
    return pb.Note(
        name=f"disputes/{row.dispute_id}/notes/{row.id}",
        text=row.text,
        author=row.author,
        create_time=timestamp(row.created_at),
    )


def evidence(row: EvidenceRow) -> pb.Evidence:
    return pb.Evidence(
        name=f"disputes/{row.dispute_id}/evidence/{row.id}",
        uri=row.uri,
        description=row.description,
        added_by=row.added_by,
        create_time=timestamp(row.created_at),
    )


def dispute(view: DisputeView) -> pb.Dispute:
    case, cur = view.case, view.case.currency
    msg = pb.Dispute()
    msg.name = f"disputes/{case.id}"
    msg.uid = case.id
    msg.customer = f"customers/{case.customer_id}"
    msg.title = case.title
    msg.reason_code = case.reason_code
    msg.priority = PRIORITIES[case.priority]
    msg.external_ref = case.external_ref
    msg.assignee = case.assignee
    msg.coordinator = case.coordinator
    msg.status = STATUSES[case.status]
    msg.currency_code = cur
    msg.sla_state = SLA_STATES[case.sla_state]
    msg.customer_risk_class = case.customer_risk_class
    if case.root_cause_code:
        msg.root_cause_code = case.root_cause_code
    if case.outcome:
        msg.outcome = OUTCOMES[case.outcome]
    if case.pause_reason:
        msg.pause_reason = PAUSE_REASONS[case.pause_reason]
    msg.etag = etag_of(case.id, case.version)
    totals = [0, 0, 0, 0, 0]
    for row in case.items:
        fill_item(msg.items.add(), row, cur)
        totals[0] += row.original_minor
        totals[1] += row.still_minor
        totals[2] += row.paid_minor
        totals[3] += row.credited_minor
        totals[4] += row.written_off_minor
    amounts = msg.amounts
    set_money(amounts.original, totals[0], cur)
    set_money(amounts.still_disputed, totals[1], cur)
    set_money(amounts.paid, totals[2], cur)
    set_money(amounts.credited, totals[3], cur)
    set_money(amounts.written_off, totals[4], cur)
    for c in view.clocks:
        fill_clock(msg.clocks.add(), c)
    if case.notes:
        msg.notes.extend(note(n) for n in case.notes)
    if case.evidence:
        msg.evidence.extend(evidence(e) for e in case.evidence)
    set_time(msg.create_time, case.created_at)
    set_time(msg.update_time, case.updated_at)
    if case.due_at is not None:
        set_time(msg.due_time, case.due_at)
    if case.resolved_at is not None:
        set_time(msg.resolve_time, case.resolved_at)
    return msg


def history_entry(row: HistoryRow) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        kind=row.kind,
        actor=row.actor,
        time=timestamp(row.occurred_at),
        version=row.version,
        from_status=row.from_status or None,
        to_status=row.to_status or None,
        comment=row.comment,
        details=durations.shown(json.loads(row.details)),
    )


def clock_event(e: ClockEventView) -> pb.ClockEvent:
    msg = pb.ClockEvent(
        clock=e.clock or None,
        cycle=e.cycle,
        event=e.event,
        time=timestamp(e.time),
        threshold=e.threshold,
        policy=f"slaPolicies/{e.policy}" if e.policy else "",
        trace_id=e.trace_id,
    )
    if e.remaining is not None:
        msg.business_time_remaining.CopyFrom(duration(e.remaining))
    if e.target is not None:
        msg.target_duration.CopyFrom(duration(e.target))
    return msg


def case_trace(v: CaseTraceView) -> pb.DisputeTrace:
    return pb.DisputeTrace(
        dispute=f"disputes/{v.case.case.id}",
        origin_trace_id=v.origin_trace_id,
        clocks=[clock(c) for c in v.case.clocks],
        clock_events=[clock_event(e) for e in v.clock_events],
        traces=[
            pb.CaseTrace(
                trace_id=t.trace_id,
                sampled=t.sampled,
                time=timestamp(t.time) if t.time else None,
                kinds=t.kinds,
            )
            for t in v.traces
        ],
        breach_trace_ids=v.breach_trace_ids,
    )


def reason_code(row: ReasonCodeRow) -> pb.ReasonCode:
    return pb.ReasonCode(
        name=f"reasonCodes/{row.code}",
        code=row.code,
        display_name=row.display_name,
        description=row.description,
        x12_code=row.x12_code,
        edifact_code=row.edifact_code,
        requires_note=row.requires_note,
        active=row.active,
        create_time=timestamp(row.created_at),
    )


def root_cause(row: RootCauseRow) -> pb.RootCause:
    return pb.RootCause(
        name=f"rootCauses/{row.code}",
        code=row.code,
        display_name=row.display_name,
        description=row.description,
        owning_team=row.owning_team,
        requires_note=row.requires_note,
        active=row.active,
        create_time=timestamp(row.created_at),
    )


def sla_policy(row: SlaPolicyRecord) -> pb.SlaPolicy:
    escalating = set(row.escalating_milestones.split(","))
    msg = pb.SlaPolicy(
        name=f"slaPolicies/{row.id}",
        display_name=row.display_name,
        clock=pb.ClockKind.Value(row.clock_kind),
        target=pb.SlaTarget(value=row.target_value, unit=pb.TimeUnit.Value(row.target_unit)),
        reason_codes=[c for c in row.reason_codes.split(",") if c],
        priorities=[pb.Priority.Value(p) for p in row.priorities.split(",") if p],
        risk_classes=[r for r in row.risk_classes.split(",") if r],
        warning_percents=[int(p) for p in row.warning_percents.split(",") if p],
        milestones=[
            pb.SlaMilestoneRule(milestone=t.name, escalate=t.name in escalating)
            for t in thresholds(tuple(int(p) for p in row.warning_percents.split(",") if p))
        ],
        calendar=f"calendars/{row.calendar_id}" if row.calendar_id else "",
        precedence=row.precedence,
        active=row.active,
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if row.min_amount_minor is not None:
        msg.min_amount.CopyFrom(minor_pb(row.min_amount_minor, row.amount_currency or ""))
    if row.max_amount_minor is not None:
        msg.max_amount.CopyFrom(minor_pb(row.max_amount_minor, row.amount_currency or ""))
    return msg


def calendar(row: CalendarRecord) -> pb.Calendar:
    spec = spec_of(row)
    hours = [
        pb.WorkingHours(day_of_week=d, start=s, end=e)
        for d, spans in sorted((spec.hours or {}).items())
        for s, e in spans
    ]
    return pb.Calendar(
        name=f"calendars/{row.id}",
        display_name=row.display_name,
        time_zone=row.time_zone,
        working_hours=hours,
        country_code=row.country_code,
        subdivision=row.subdivision,
        extra_holidays=[d.isoformat() for d in spec.extra_holidays],
        extra_working_days=[d.isoformat() for d in spec.extra_working_days],
        customer=f"customers/{row.customer_id}" if row.customer_id else "",
        team=row.team,
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


def recorded(case: Recorded) -> pb.Dispute:
    """RecordEscalation's answer: the case's name and etag, all a relay needs."""
    return pb.Dispute(name=f"disputes/{case.id}", etag=etag_of(case.id, case.version))


def record_result(outcome: Recorded | DomainError) -> pb.RecordEscalationsResponse.Result:
    if isinstance(outcome, DomainError):
        return pb.RecordEscalationsResponse.Result(error=error_status(outcome, SERVICE))
    return pb.RecordEscalationsResponse.Result(dispute=recorded(outcome))
