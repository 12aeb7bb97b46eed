"""What happens to spans between the SDK and the wire: which are kept (sampling) and what may
leave the process (no personal data).

Sampling is the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parent-based by default),
with two Settle rules around it:
- an SLA breach span (attribute `settle.sla.breach`) is always kept: it is what SRE looks for,
  and it is rare;
- with no trace exporter configured and no sampler chosen, new traces are not recorded (their ids
  still reach the logs); a sampled parent from upstream is still honoured.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link

from common.redaction import REDACTED, is_personal_key, scrub_text
from common.tracing import SLA_BREACH

log = structlog.get_logger("settle.telemetry")


class KeepBreaches(Sampler):
    """Always samples SLA breach spans; asks the configured sampler about everything else."""

    def __init__(self, inner: Sampler):
        self.inner = inner

    def should_sample(
        self,
        parent_context,
        trace_id,
        name,
        kind=None,
        attributes=None,
        links=None,
        trace_state=None,
    ) -> SamplingResult:
        if attributes and attributes.get(SLA_BREACH):
            parent = trace.get_current_span(parent_context).get_span_context()
            state = parent.trace_state if parent.is_valid else trace_state
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, state)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"KeepBreaches{{{self.inner.get_description()}}}"


def settle_sampler(exporting: bool) -> Sampler:
    if os.environ.get("OTEL_TRACES_SAMPLER") or exporting:
        # The SDK's own reading of OTEL_TRACES_SAMPLER(_ARG), through its public surface.
        inner = TracerProvider(shutdown_on_exit=False).sampler
    else:
        inner = ParentBased(ALWAYS_OFF)
    return KeepBreaches(inner)


def _clean_value(value):
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, tuple | list) and value and isinstance(value[0], str):
        return tuple(scrub_text(v) for v in value)
    return value


def _clean_attributes(attributes) -> tuple[dict | None, list[str]]:
    """(cleaned copy, keys that needed it), or (None, []) when nothing personal was found."""
    if not attributes:
        return None, []
    cleaned, found = {}, []
    for key, value in attributes.items():
        new = REDACTED if is_personal_key(key) else _clean_value(value)
        if new != value:
            found.append(key)
        cleaned[key] = new
    return (cleaned, found) if found else (None, [])


class RedactingSpanExporter(SpanExporter):
    """Removes personal data from spans before they are exported, and says where it came from
    (span name and attribute key, never the value) so the code that put it there gets fixed.
    It runs on the batch processor's thread, off the request path."""

    def __init__(self, inner: SpanExporter):
        self.inner = inner
        self._reported: set[tuple[str, str]] = set()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([self._clean(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def _clean(self, span: ReadableSpan) -> ReadableSpan:
        attributes, found = _clean_attributes(span.attributes)
        events, changed_events = [], False
        for event in span.events:
            event_attrs, event_found = _clean_attributes(event.attributes)
            if event_attrs is not None:
                changed_events = True
                found += [f"{event.name}:{key}" for key in event_found]
                event = Event(event.name, event_attrs, event.timestamp)
            events.append(event)
        links, changed_links = [], False
        for link in span.links:
            link_attrs, link_found = _clean_attributes(link.attributes)
            if link_attrs is not None:
                changed_links = True
                found += [f"link:{key}" for key in link_found]
                link = Link(link.context, link_attrs)
            links.append(link)
        if not found:
            return span
        self._report(span.name, found)
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes if attributes is not None else span.attributes,
            events=events if changed_events else span.events,
            links=links if changed_links else span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def _report(self, span_name: str, keys: list[str]) -> None:
        new = [k for k in keys if (span_name, k) not in self._reported]
        if new:
            self._reported.update((span_name, k) for k in new)
            log.warning("personal data removed from a span", span=span_name, attributes=new)
