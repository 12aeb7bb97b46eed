"""The spans of a RaiseEscalations call: one span for the batch's work (its SQL under it), each
item's own trace a link of it, each item's outcome an event on it.

An item arrives with its producer's trace (the disputes relay's `outbox deliver` span, inside the
breach's trace): that span is a link of the batch span, carrying the item's event id, so the
breach's trace reaches the raise that worked it, and the item's escalation id is an event beside
it. At most PER_SPAN items a span: a larger batch gets further spans, started beside the first,
for the links and events the SDK would otherwise drop. A span per item was 7 % of the escalation
service's CPU in a breach burst (docs/benchmarks.md); a link and an event cost a fraction of it,
and nothing on a sampled-out span.

A single RaiseEscalation (an item without a trace of its own) is worked in its call's span.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from common.errors import DomainError
from common.tracing import ESCALATION_ID, EVENT_ID, LINK_ROLE, context_from

BATCH_SPAN = "RaiseEscalations batch"
ITEMS = "settle.batch.items"  # on a batch span: how many items it holds
RAISED, REFUSED = "settle.escalation.raised", "settle.escalation.refused"
# Below the SDK's default limits of 128 links and 128 events a span, so none is dropped.
PER_SPAN = 100
tracer = trace.get_tracer("settle.escalation")


def producer_traceparent(traceparent: str | None) -> str | None:
    """An item's trace, when it names a valid span; else None (the item is worked, and its rows
    remember, the call's trace)."""
    return traceparent if context_from(traceparent) is not None else None


class RaiseSpans:
    """One batch's spans; `outcomes` records what became of each item before they end."""

    def __init__(self, spans: list[trace.Span], keys: Sequence[str]):
        self.spans, self.keys = spans, keys

    def outcomes(self, outcomes: Sequence[object]) -> None:
        for index, (key, outcome) in enumerate(zip(self.keys, outcomes, strict=True)):
            span = self.spans[index // PER_SPAN]
            if not span.is_recording():
                continue
            if isinstance(outcome, DomainError):
                span.add_event(REFUSED, {EVENT_ID: key, "error.type": type(outcome).__name__})
            elif outcome is not None:
                span.add_event(RAISED, {EVENT_ID: key, ESCALATION_ID: outcome.row.id})  # type: ignore[attr-defined]


@contextmanager
def batch_spans(
    keys: Sequence[str], traceparents: Sequence[str | None]
) -> Iterator[RaiseSpans | None]:
    """The batch's spans around its work, the first one current; None for a single raise (no item
    came with a trace of its own)."""
    if all(t is None for t in traceparents):
        yield None
        return
    chunks = [range(i, min(i + PER_SPAN, len(keys))) for i in range(0, len(keys), PER_SPAN)]
    with tracer.start_as_current_span(
        BATCH_SPAN, kind=SpanKind.CONSUMER, links=_links(chunks[0], keys, traceparents)
    ) as first:
        spans = [first] + [
            tracer.start_span(
                BATCH_SPAN, kind=SpanKind.CONSUMER, links=_links(chunk, keys, traceparents)
            )
            for chunk in chunks[1:]
        ]
        for span, chunk in zip(spans, chunks, strict=True):
            span.set_attribute(ITEMS, len(chunk))
        try:
            yield RaiseSpans(spans, keys)
        finally:
            for span in spans[1:]:
                span.end()


def _links(chunk: range, keys: Sequence[str], traceparents: Sequence[str | None]) -> list[Link]:
    links = []
    for i in chunk:
        parent = context_from(traceparents[i])
        if parent is not None:
            context = trace.get_current_span(parent).get_span_context()
            links.append(Link(context, {LINK_ROLE: "producer", EVENT_ID: keys[i]}))
    return links
