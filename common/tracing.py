"""Settle's span vocabulary and the helpers that carry trace context through rows and events.

Attribute names follow OpenTelemetry's conventions where one exists (rpc.*, db.*, http.*,
messaging.*, set by the instrumentations); Settle's own are namespaced `settle.*`. Log keys are
the short names (`case_id`); `about()` sets both at once. No personal data in either (see
common/redaction.py): ids, codes and numbers only.

Every helper is cheap when the span is not recording (sampled out or tracing off): attributes are
built only when they will be kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

CASE_ID = "settle.case.id"
ESCALATION_ID = "settle.escalation.id"
CUSTOMER_ID = "settle.customer.id"
INVOICE_ID = "settle.invoice.id"
EVENT_ID = "settle.event.id"  # outbox event id (common/outbox.py sets it)
CLOCK_KIND = "settle.clock.kind"  # e.g. "first_response", "resolve"
CLOCK_EVENT = "settle.clock.event"  # one of CLOCK_EVENTS
POLICY = "settle.policy"  # SLA policy id
TARGET_S = "settle.target_s"  # the clock's target, business seconds
BUSINESS_REMAINING_S = "settle.business_remaining_s"  # negative once breached
REASON = "settle.reason"  # dispute reason code
TEAM = "settle.team"
SLA_BREACH = "settle.sla.breach"  # True on a breach span; the sampler always keeps those
LINK_ROLE = "settle.link.role"  # on links: "origin" (the case's first trace), "producer", ...

# Log context key -> span attribute, for `about()`.
LOG_KEYS: Mapping[str, str] = {
    "case_id": CASE_ID,
    "escalation_id": ESCALATION_ID,
    "customer_id": CUSTOMER_ID,
    "invoice_id": INVOICE_ID,
    "event_id": EVENT_ID,
}
CLOCK_EVENTS = ("started", "paused", "resumed", "retargeted", "warned", "breached", "met")
_W3C = TraceContextTextMapPropagator()  # stateless; W3C only, whatever the global propagator

Attributes = Mapping[str, AttributeValue]


# -- trace context through rows and events ------------------------------------------------------
def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, to store on a row (a case's origin, an event).
    Sampled-out spans have one too (flag 00): logs and rows still correlate."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> otel_context.Context | None:
    """A context whose parent is the stored span, or None when there is nothing valid."""
    if not traceparent:
        return None
    ctx = _W3C.extract({"traceparent": traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def link_to(traceparent: str | None, role: str = "origin") -> Link | None:
    ctx = context_from(traceparent)
    if ctx is None:
        return None
    return Link(trace.get_current_span(ctx).get_span_context(), {LINK_ROLE: role})


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id in a stored traceparent (what Jaeger's search box takes)."""
    ctx = context_from(traceparent)
    return format(trace.get_current_span(ctx).get_span_context().trace_id, "032x") if ctx else None


# -- attributes ---------------------------------------------------------------------------------
def annotate(attributes: Attributes | Callable[[], Attributes], span: Span | None = None) -> None:
    """Sets attributes on a span (default: the current one). Pass a function to skip building
    them when the span is sampled out."""
    span = span or trace.get_current_span()
    if not span.is_recording():
        return
    values = attributes() if callable(attributes) else attributes
    span.set_attributes({k: v for k, v in values.items() if v is not None})


def _known_ids(ids: Mapping[str, str | None]) -> dict[str, str]:
    unknown = set(ids) - set(LOG_KEYS)
    if unknown:
        raise TypeError(f"takes {sorted(LOG_KEYS)}, not {sorted(unknown)}")
    return {k: v for k, v in ids.items() if v}


def about(**ids: str | None) -> None:
    """Says what the current work is about: binds the log context (`case_id=...`, see LOG_KEYS)
    for the rest of the request, and sets `settle.*.id` on the current span."""
    present = _known_ids(ids)
    structlog.contextvars.bind_contextvars(**present)
    annotate(lambda: {LOG_KEYS[k]: v for k, v in present.items()})


@contextmanager
def working_on(**ids: str | None) -> Iterator[None]:
    """`about()` for background jobs: the log context is restored when the job ends (the server
    interceptor clears it after each RPC, nothing does it for a worker loop)."""
    present = _known_ids(ids)
    with structlog.contextvars.bound_contextvars(**present):
        annotate(lambda: {LOG_KEYS[k]: v for k, v in present.items()})
        yield


# -- spans ---------------------------------------------------------------------------------------
@contextmanager
def linked_span(
    tracer: trace.Tracer,
    name: str,
    *,
    links: Iterable[str | None] = (),
    role: str = "origin",
    attributes: Attributes | None = None,
    new_trace: bool = False,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A span linked to stored traceparents (e.g. a breach to the case's first trace, a consumer
    to its producer). `new_trace=True` makes it a root, whatever is current."""
    span_links = [link for link in (link_to(tp, role) for tp in links) if link is not None]
    context = otel_context.Context() if new_trace else None
    with tracer.start_as_current_span(
        name, context=context, kind=kind, links=span_links, attributes=attributes
    ) as span:
        yield span


def clock_attributes(
    *,
    case_id: str,
    clock: str,
    policy: str,
    target_s: float | None = None,
    business_remaining_s: float | None = None,
) -> dict[str, AttributeValue]:
    attrs: dict[str, AttributeValue] = {CASE_ID: case_id, CLOCK_KIND: clock, POLICY: policy}
    if target_s is not None:
        attrs[TARGET_S] = float(target_s)
    if business_remaining_s is not None:
        attrs[BUSINESS_REMAINING_S] = float(business_remaining_s)
    return attrs


def clock_event(event: str, span: Span | None = None, **clock) -> None:
    """An SLA clock event (started, paused, ... met) as a span event `settle.sla.<event>` on the
    current span. `clock` takes the arguments of `clock_attributes`."""
    if event not in CLOCK_EVENTS:
        raise ValueError(f"event must be one of {CLOCK_EVENTS}, not {event!r}")
    span = span or trace.get_current_span()
    if span.is_recording():
        span.add_event(f"settle.sla.{event}", {CLOCK_EVENT: event, **clock_attributes(**clock)})


@contextmanager
def breach_span(
    tracer: trace.Tracer,
    *,
    origin_traceparent: str | None,
    reason: str = "",
    team: str = "",
    **clock,
) -> Iterator[Span]:
    """The span of one SLA breach: its own span, linked to the case's originating trace, with
    status ERROR so trace viewers mark it, and always sampled (SLA_BREACH attribute, see
    common/span_pipeline.py). Work done inside it (the escalation event) joins its trace."""
    attrs = {**clock_attributes(**clock), SLA_BREACH: True, REASON: reason, TEAM: team}
    with linked_span(
        tracer, "settle.sla.breach", links=[origin_traceparent], attributes=attrs
    ) as span:
        span.add_event(
            "settle.sla.breached", {CLOCK_EVENT: "breached", **clock_attributes(**clock)}
        )
        span.set_status(Status(StatusCode.ERROR, "SLA breached"))
        yield span
