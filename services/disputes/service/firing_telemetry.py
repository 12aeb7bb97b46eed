"""What SLA firings (warnings, breaches) tell SRE: spans linked to the traces that opened the
cases, one log line and metrics per committed batch.

A batch's breaches share a `settle.sla.breach` span (status ERROR, always sampled: common/
span_pipeline.py) and its warnings a `settle.sla.warning` span, each the root of a trace of its
own, at most PER_SPAN firings a span. Each firing is a span event (`settle.sla.breached` /
`settle.sla.warned`) carrying its case id, clock, policy, threshold, business time left and
lateness, and its case's originating trace is a link of the span. The firing's history row
records the span's traceparent and its escalation event carries it, so the escalation's delivery
and the consumer's work join the breach's trace, and the escalation records the firing's
milestone as its trigger_event_id. Per firing this costs an event and a link on a recorded span,
nothing on a sampled-out one: a span, a context switch and a log line per firing were a quarter
of the sweeper's CPU (docs/benchmarks.md).

Metrics and the log line are counted by the caller once the firings have committed (a rolled-back
pass is redone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode

from common import tracing
from common.metrics import SettleMetrics

log = structlog.get_logger("settle.disputes.sweeper")
THRESHOLD = "settle.sla.threshold"  # WARNING_50, WARNING_75, BREACH
LATENESS_MS = "settle.sla.lateness_ms"  # fired time - due time
FIRINGS = "settle.sla.firings"  # on a firing span: how many firings it holds
# Below the SDK's default limits of 128 links and 128 events a span, so none is dropped.
PER_SPAN = 100


@dataclass(frozen=True)
class Firing:
    case_id: str
    clock: str  # ACKNOWLEDGE | RESOLVE
    threshold: str  # WARNING_<n> | BREACH
    policy: str
    reason: str  # the case's reason code
    team: str  # owning team of the case's root cause, "" while unknown
    target_s: float
    remaining_s: float  # business time left; negative once breached
    started_at: datetime  # the clock's start (wall time)
    fired_at: datetime
    origin_traceparent: str | None
    lateness_ms: int = 0  # fired time - due time

    @property
    def breach(self) -> bool:
        return self.threshold == "BREACH"

    def event_attributes(self) -> dict:
        return {
            **tracing.clock_attributes(
                case_id=self.case_id,
                clock=self.clock,
                policy=self.policy,
                target_s=self.target_s,
                business_remaining_s=self.remaining_s,
            ),
            THRESHOLD: self.threshold,
            LATENESS_MS: self.lateness_ms,
            tracing.REASON: self.reason,
            tracing.TEAM: self.team,
        }


class _Open:
    def __init__(self, span: trace.Span, traceparent: str | None):
        self.span, self.traceparent, self.firings = span, traceparent, 0


class FiringSpans:
    """The spans of one batch's firings, opened as firings need them and ended by `end()`."""

    def __init__(self, tracer: trace.Tracer):
        self.tracer = tracer
        self._open: dict[bool, _Open] = {}  # breach? -> its kind's current span
        self._ended: list[_Open] = []

    def traceparent(self, breach: bool) -> str | None:
        """The traceparent the next firing of its kind is recorded under (its history row and
        escalation event carry it)."""
        current = self._open.get(breach)
        if current is None or current.firings >= PER_SPAN:
            if current is not None:
                self._ended.append(current)
            current = self._open[breach] = self._start(breach)
        return current.traceparent

    def record(self, firing: Firing) -> None:
        """The firing was kept: its event and its case's origin link on its kind's span."""
        current = self._open[firing.breach]
        current.firings += 1
        span = current.span
        if not span.is_recording():
            return
        link = tracing.link_to(firing.origin_traceparent)
        if link is not None:
            span.add_link(link.context, link.attributes)
        event = "breached" if firing.breach else "warned"
        span.add_event(
            f"settle.sla.{event}", {tracing.CLOCK_EVENT: event, **firing.event_attributes()}
        )

    def end(self) -> None:
        for opened in [*self._ended, *self._open.values()]:
            opened.span.set_attribute(FIRINGS, opened.firings)
            opened.span.end()
        self._ended, self._open = [], {}

    def _start(self, breach: bool) -> _Open:
        # A root: one trace per batch and kind, whole whatever the sweeper pass's sampling.
        if breach:
            span = self.tracer.start_span(
                "settle.sla.breach", context=Context(), attributes={tracing.SLA_BREACH: True}
            )
            span.set_status(Status(StatusCode.ERROR, "SLA breached"))
        else:
            span = self.tracer.start_span("settle.sla.warning", context=Context())
        return _Open(span, _traceparent(span))


def _traceparent(span: trace.Span) -> str | None:
    """The span's W3C traceparent, as `tracing.current_traceparent()` would give inside it."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None  # tracing off
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


def count(metrics: SettleMetrics, firings: list[Firing]) -> None:
    """Committed firings: SLA warnings and breaches by clock, reason, team and policy, time to
    breach (wall time from the clock's start), and one log line with their counts and cases."""
    if not firings:
        return
    for f in firings:
        kind = "breach" if f.breach else "warning"
        metrics.sla_event(kind, clock=f.clock, reason=f.reason, team=f.team, policy=f.policy)
        if f.breach:
            metrics.time_to_breach(
                (f.fired_at - f.started_at).total_seconds(),
                clock=f.clock,
                team=f.team,
                policy=f.policy,
            )
    breaches = sum(f.breach for f in firings)
    log.info(
        "sla milestones fired",
        breaches=breaches,
        warnings=len(firings) - breaches,
        case_ids=sorted({f.case_id for f in firings}),
        max_lateness_ms=max(f.lateness_ms for f in firings),
    )
