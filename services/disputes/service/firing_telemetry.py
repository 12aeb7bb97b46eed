"""What one SLA firing (a warning or a breach) tells SRE: its own trace, linked to the trace that
opened the case, and its metrics.

A breach runs inside `common.tracing.breach_span` (status ERROR, always sampled); a warning inside
a `settle.sla.warning` span with a `settle.sla.warned` event. The sweeper writes the firing's
history row and escalation event inside that span, so the row records the firing's trace and the
outbox event carries it: the escalation's delivery and the consumer's work join the firing's trace.
Metrics are counted by the caller once the firing has committed (a rolled-back pass is redone).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry import trace

from common import tracing
from common.metrics import SettleMetrics

THRESHOLD = "settle.sla.threshold"  # WARNING_50, WARNING_75 (BREACH is the breach span itself)


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

    @property
    def breach(self) -> bool:
        return self.threshold == "BREACH"

    def _clock(self) -> dict:
        return dict(
            case_id=self.case_id,
            clock=self.clock,
            policy=self.policy,
            target_s=self.target_s,
            business_remaining_s=self.remaining_s,
        )


@contextmanager
def firing_span(tracer: trace.Tracer, firing: Firing) -> Iterator[trace.Span]:
    """The firing's span, the root of a trace of its own (not a child of the sweeper pass: one
    trace per firing, whole whatever the pass's sampling), with the log context of its case."""
    token = otel_context.attach(otel_context.Context())
    try:
        with tracing.working_on(case_id=firing.case_id):
            if firing.breach:
                with tracing.breach_span(
                    tracer,
                    origin_traceparent=firing.origin_traceparent,
                    reason=firing.reason,
                    team=firing.team,
                    **firing._clock(),
                ) as span:
                    yield span
                return
            attributes = {
                **tracing.clock_attributes(**firing._clock()),
                tracing.REASON: firing.reason,
                tracing.TEAM: firing.team,
                THRESHOLD: firing.threshold,
            }
            with tracing.linked_span(
                tracer,
                "settle.sla.warning",
                links=[firing.origin_traceparent],
                attributes=attributes,
            ) as span:
                tracing.clock_event("warned", span, **firing._clock())
                yield span
    finally:
        otel_context.detach(token)


def count(metrics: SettleMetrics, firings: list[Firing]) -> None:
    """SLA warnings and breaches by clock, reason, team and policy; time to breach (wall time
    from the clock's start)."""
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
