"""Rows and views → protobuf messages."""

from __future__ import annotations

import json
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration

from common.etag import etag_of
from common.protoconv import minor_pb, timestamp
from services.disputes.models import (
    CalendarRow,
    DisputeItemRow,
    EvidenceRow,
    HistoryRow,
    NoteRow,
    ReasonCodeRow,
    RootCauseRow,
    SlaPolicyRow,
)
from services.disputes.service.calendars import spec_of
from services.disputes.service.case_trace import CaseTraceView, ClockEventView
from services.disputes.service.views import ClockView, DisputeView
from settle.disputes.v1 import disputes_pb2 as pb


def duration(value: timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(value)
    return d


def _enum(enum, value: str | None) -> int:
    return enum.Value(value) if value else 0


def item(row: DisputeItemRow, cur: str) -> pb.DisputedItem:
    return pb.DisputedItem(
        invoice=f"invoices/{row.invoice_id}",
        invoice_number=row.invoice_number,
        line_numbers=[int(n) for n in row.line_numbers.split(",") if n],
        amount=minor_pb(row.original_minor, cur),
        original_amount=minor_pb(row.original_minor, cur),
        still_disputed_amount=minor_pb(row.still_minor, cur),
        paid_amount=minor_pb(row.paid_minor, cur),
        credited_amount=minor_pb(row.credited_minor, cur),
        written_off_amount=minor_pb(row.written_off_minor, cur),
    )


def clock(v: ClockView) -> pb.SlaClock:
    row = v.row
    msg = pb.SlaClock(
        kind=pb.ClockKind.Value(row.kind),
        state=pb.SlaClock.State.Value(row.status),
        target=pb.SlaTarget(value=row.target_value, unit=pb.TimeUnit.Value(row.target_unit)),
        target_duration=duration(v.clock.target),
        start_time=timestamp(row.started_at),
        business_time_spent=duration(v.reading.spent),
        business_time_remaining=duration(v.reading.remaining),
        warned=any(n.startswith("WARNING") for n in v.fired),
        breached="BREACH" in v.fired,
        pause_reason=_enum(pb.PauseReason, row.pause_reason),
        paused_time=duration(v.clock.paused_total),
        policy=f"slaPolicies/{row.policy_id}",
        calendar=f"calendars/{row.calendar_id}",
    )
    if v.reading.due_at is not None:
        msg.due_time.CopyFrom(timestamp(v.reading.due_at))
    if row.stopped_at is not None:
        msg.stop_time.CopyFrom(timestamp(row.stopped_at))
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
    sums = [
        sum(getattr(i, f) for i in case.items)
        for f in (
            "original_minor",
            "still_minor",
            "paid_minor",
            "credited_minor",
            "written_off_minor",
        )
    ]
    msg = pb.Dispute(
        name=f"disputes/{case.id}",
        customer=f"customers/{case.customer_id}",
        title=case.title,
        reason_code=case.reason_code,
        priority=pb.Priority.Value(case.priority),
        external_ref=case.external_ref,
        assignee=case.assignee,
        coordinator=case.coordinator,
        items=[item(i, cur) for i in case.items],
        status=pb.Dispute.Status.Value(case.status),
        root_cause_code=case.root_cause_code or "",
        outcome=_enum(pb.Outcome, case.outcome),
        pause_reason=_enum(pb.PauseReason, case.pause_reason),
        currency_code=cur,
        amounts=pb.AmountSummary(
            **{
                k: minor_pb(v, cur)
                for k, v in zip(
                    ("original", "still_disputed", "paid", "credited", "written_off"),
                    sums,
                    strict=True,
                )
            }
        ),
        clocks=[clock(c) for c in view.clocks],
        sla_state=pb.SlaState.Value(case.sla_state),
        notes=[note(n) for n in case.notes],
        evidence=[evidence(e) for e in case.evidence],
        customer_risk_class=case.customer_risk_class,
        etag=etag_of(case.id, case.version),
        create_time=timestamp(case.created_at),
        update_time=timestamp(case.updated_at),
    )
    if case.due_at is not None:
        msg.due_time.CopyFrom(timestamp(case.due_at))
    if case.resolved_at is not None:
        msg.resolve_time.CopyFrom(timestamp(case.resolved_at))
    return msg


def history_entry(row: HistoryRow) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        kind=row.kind,
        actor=row.actor,
        time=timestamp(row.occurred_at),
        version=row.version,
        from_status=_enum(pb.Dispute.Status, row.from_status),
        to_status=_enum(pb.Dispute.Status, row.to_status),
        comment=row.comment,
        details=json.loads(row.details),
    )


def clock_event(e: ClockEventView) -> pb.ClockEvent:
    msg = pb.ClockEvent(
        clock=_enum(pb.ClockKind, e.clock),
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


def sla_policy(row: SlaPolicyRow) -> pb.SlaPolicy:
    msg = pb.SlaPolicy(
        name=f"slaPolicies/{row.id}",
        display_name=row.display_name,
        clock=pb.ClockKind.Value(row.clock_kind),
        target=pb.SlaTarget(value=row.target_value, unit=pb.TimeUnit.Value(row.target_unit)),
        reason_codes=[c for c in row.reason_codes.split(",") if c],
        priorities=[pb.Priority.Value(p) for p in row.priorities.split(",") if p],
        risk_classes=[r for r in row.risk_classes.split(",") if r],
        warning_percents=[int(p) for p in row.warning_percents.split(",") if p],
        calendar=f"calendars/{row.calendar_id}" if row.calendar_id else "",
        precedence=row.precedence,
        active=row.active,
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if row.min_amount_minor is not None:
        msg.min_amount.CopyFrom(minor_pb(row.min_amount_minor, row.amount_currency))
    if row.max_amount_minor is not None:
        msg.max_amount.CopyFrom(minor_pb(row.max_amount_minor, row.amount_currency))
    return msg


def calendar(row: CalendarRow) -> pb.Calendar:
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
