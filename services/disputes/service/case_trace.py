"""For SRE (GetDisputeTrace): a case's clocks, their events and the traces that touched it, read
from the case's history (each row records the trace of the action that wrote it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry import trace

from common import tracing
from services.disputes.data import repository as repo
from services.disputes.data.models import DisputeRow, HistoryRow
from services.disputes.domain.durations import parse_duration
from services.disputes.service.context import DisputesContext
from services.disputes.service.team_access import visible_case
from services.disputes.service.views import DisputeView, view_of

CLOCK_EVENTS = {
    "CLOCK_STARTED": "started",
    "CLOCK_PAUSED": "paused",
    "CLOCK_RESUMED": "resumed",
    "CLOCK_RETARGETED": "retargeted",
    "CLOCK_WARNED": "warned",
    "CLOCK_BREACHED": "breached",
    "CLOCK_MET": "met",
    "CLOCK_CANCELLED": "cancelled",
}


@dataclass(frozen=True)
class ClockEventView:
    clock: str
    cycle: int
    event: str
    time: datetime
    remaining: timedelta | None
    target: timedelta | None
    threshold: str
    policy: str
    trace_id: str


@dataclass(frozen=True)
class TraceView:
    trace_id: str
    sampled: bool
    time: datetime | None
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class CaseTraceView:
    case: DisputeView
    origin_trace_id: str
    clock_events: tuple[ClockEventView, ...]
    traces: tuple[TraceView, ...]
    breach_trace_ids: tuple[str, ...]


def _sampled(traceparent: str | None) -> bool:
    ctx = tracing.context_from(traceparent)
    return ctx is not None and trace.get_current_span(ctx).get_span_context().trace_flags.sampled


def _clock_event(row: HistoryRow, trace_id: str) -> ClockEventView:
    details = json.loads(row.details or "{}")
    target = parse_duration(details.get("target"))
    remaining = parse_duration(details.get("remaining"))
    if row.kind == "CLOCK_STARTED":
        remaining = target  # nothing spent yet
    return ClockEventView(
        clock=details.get("clock", ""),
        cycle=int(details.get("cycle") or 1),
        event=CLOCK_EVENTS[row.kind],
        time=row.occurred_at,
        remaining=remaining,
        target=target,
        threshold=details.get("threshold", ""),
        policy=details.get("policy", ""),
        trace_id=trace_id,
    )


def _traces(case: DisputeRow, rows: list[HistoryRow]) -> tuple[TraceView, ...]:
    """One entry per trace, the case's origin first, then by first appearance."""
    groups: dict[str, tuple[str | None, datetime, list[str]]] = {}
    for row in rows:
        trace_id = tracing.trace_id_of(row.traceparent)
        if trace_id is None:
            continue
        groups.setdefault(trace_id, (row.traceparent, row.occurred_at, []))[2].append(row.kind)
    origin = tracing.trace_id_of(case.origin_traceparent)
    if origin is not None and origin not in groups:  # e.g. rows written before 0002
        groups[origin] = (case.origin_traceparent, case.created_at, [])
    order = sorted(groups, key=lambda t: t != origin)  # stable: first appearance otherwise
    return tuple(
        TraceView(t, _sampled(groups[t][0]), groups[t][1], tuple(groups[t][2])) for t in order
    )


async def case_trace(ctx: DisputesContext, dispute_id: str) -> CaseTraceView:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, options=("clocks",))
        rows = await repo.history_of(session, dispute_id)
        view = await view_of(session, ctx.calendars, case, ctx.clock.now())
    events = tuple(
        _clock_event(r, tracing.trace_id_of(r.traceparent) or "")
        for r in rows
        if r.kind in CLOCK_EVENTS
    )
    breaches = tuple(
        dict.fromkeys(e.trace_id for e in events if e.event == "breached" and e.trace_id)
    )
    return CaseTraceView(
        case=view,
        origin_trace_id=tracing.trace_id_of(case.origin_traceparent) or "",
        clock_events=events,
        traces=_traces(case, rows),
        breach_trace_ids=breaches,
    )
