"""Delivering leased outbox events to their consumers: one unary call per event, or one call per
method and destination through a consumer's batch method (`BatchSender`). Every event gets its own
`outbox deliver …` span, a child of the trace that wrote the event, whichever way it travels.
`items_sender` is the BatchSender of a batch method shaped like RaiseEscalations (items in,
results out): the disputes relay's RaiseEscalations, the escalation relay's RecordEscalations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from common.tracing import context_from

tracer = trace.get_tracer("settle.outbox")


@dataclass(frozen=True)
class LeasedEvent:
    """An event leased for delivery. Handed to a BatchSender, `traceparent` is that of the event's
    own `outbox deliver` span (a child of the trace that wrote it): put it in the event's item so
    the consumer's work joins that trace."""

    id: str
    destination: str
    method: str
    payload: bytes
    subject: str
    traceparent: str | None
    attempts: int


# (channel, events of one method and destination, deadline in seconds) -> one answer per event, in
# order: None = delivered, an exception (an AioRpcError, say) = that event's failure, retried or
# parked as a unary call's would be. A sender that raises fails every event it was given.
BatchSender = Callable[
    [grpc.aio.Channel, Sequence[LeasedEvent], float], Awaitable[list[BaseException | None]]
]
Outcome = tuple[LeasedEvent, BaseException | None]
_CODES = {code.value[0]: code for code in grpc.StatusCode}


async def deliver(
    leased: Sequence[LeasedEvent],
    channels: Mapping[str, grpc.aio.Channel],
    batch_senders: Mapping[str, BatchSender],
    deadline_s: float,
    *,
    in_flight: int = 20,
) -> list[Outcome]:
    """Sends the leased events, at most `in_flight` unary calls at a time beside one call per batch
    method and destination; what happened to each (None = delivered)."""
    singles = [e for e in leased if e.method not in batch_senders]
    slots = asyncio.Semaphore(in_flight)

    async def one(event: LeasedEvent) -> BaseException | None:
        async with slots:
            return await _one(event, channels, deadline_s)

    groups: dict[tuple[str, str], list[LeasedEvent]] = {}
    for e in leased:
        if e.method in batch_senders:
            groups.setdefault((e.destination, e.method), []).append(e)
    single_errors, batch_errors = await asyncio.gather(
        asyncio.gather(*(one(e) for e in singles)),
        asyncio.gather(
            *(_batch(g, channels, batch_senders[g[0].method], deadline_s) for g in groups.values())
        ),
    )
    outcomes: list[Outcome] = list(zip(singles, single_errors, strict=True))
    for group, errors in zip(groups.values(), batch_errors, strict=True):
        outcomes += zip(group, errors, strict=True)
    return outcomes


def items_sender(batch_method: str, request_type, item_request_type, response_type) -> BatchSender:
    """The BatchSender of a consumer's batch method shaped like RaiseEscalations: its request holds
    `items`, each the event's own request and its delivery span's `traceparent`; its response
    holds `results`, one per item in order, each its resource or its `error` (a google.rpc.Status)
    in a oneof named `result`. A consumer from before the batch method (UNIMPLEMENTED, a rolling
    update) gets the events one call each, rather than every event parked as refused."""

    async def send(
        channel: grpc.aio.Channel, events: Sequence[LeasedEvent], deadline_s: float
    ) -> list[BaseException | None]:
        request = request_type(
            items=[
                request_type.Item(
                    request=item_request_type.FromString(e.payload), traceparent=e.traceparent or ""
                )
                for e in events
            ]
        )
        try:
            body = await channel.unary_unary(batch_method)(
                request.SerializeToString(), timeout=deadline_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise  # every event is retried
            return list(await asyncio.gather(*(_one_of_batch(channel, e, deadline_s)
                                               for e in events)))  # fmt: skip
        return [
            _item_error(r.error) if r.WhichOneof("result") == "error" else None
            for r in response_type.FromString(body).results
        ]

    return send


async def _one_of_batch(channel: grpc.aio.Channel, event: LeasedEvent, deadline_s: float):
    """A batch's event sent on its own, under its delivery span (its `traceparent`)."""
    token = otel_context.attach(context_from(event.traceparent) or otel_context.get_current())
    try:
        # The event's id travels once, as the request's request_id (common/outbox.py sets it).
        await channel.unary_unary(event.method)(event.payload, timeout=deadline_s)
        return None
    except grpc.aio.AioRpcError as exc:
        return exc
    finally:
        otel_context.detach(token)


def _item_error(status) -> grpc.aio.AioRpcError:
    """An item's status as the error its own call would have raised (the relay reads the code:
    INVALID_ARGUMENT parks the event, others retry it)."""
    return grpc.aio.AioRpcError(
        _CODES.get(status.code, grpc.StatusCode.UNKNOWN),
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details=status.message,
    )


async def _one(event: LeasedEvent, channels, deadline_s: float) -> BaseException | None:
    span = _span(event)
    with trace.use_span(span, end_on_exit=True):
        channel = channels.get(event.destination)
        error: BaseException | None = None
        if channel is None:
            error = _no_channel(event)
        else:
            try:
                # The event id travels in the payload's request_id, its one carrier.
                await channel.unary_unary(event.method)(event.payload, timeout=deadline_s)
            except grpc.aio.AioRpcError as exc:
                error = exc
        _mark(span, error)
    return error


async def _batch(
    events: list[LeasedEvent], channels, sender: BatchSender, deadline_s: float
) -> list[BaseException | None]:
    """One call for events of one method and destination. Each event's span wraps the shared
    call and travels in its item (LeasedEvent.traceparent); the call itself runs in the first
    event's span, so its client and server spans have a trace to belong to."""
    spans = [_span(e) for e in events]
    channel = channels.get(events[0].destination)
    errors: list[BaseException | None]
    if channel is None:
        errors = [_no_channel(e) for e in events]
    else:
        sent = [
            replace(e, traceparent=_traceparent(s, e)) for e, s in zip(events, spans, strict=True)
        ]
        try:
            with trace.use_span(spans[0], end_on_exit=False):
                errors = list(await sender(channel, sent, deadline_s))
            if len(errors) != len(events):
                raise ValueError(f"{len(errors)} answers for {len(events)} events")
        except Exception as exc:  # the whole call failed: every event retries (or parks)
            errors = [exc] * len(events)
    for span, error in zip(spans, errors, strict=True):
        _mark(span, error)
        span.end()
    return errors


def _span(event: LeasedEvent) -> trace.Span:
    """The event's delivery span, a child of the action that wrote the event."""
    parent = propagate.extract({"traceparent": event.traceparent}) if event.traceparent else None
    return tracer.start_span(
        f"outbox deliver {event.method.rsplit('/', 1)[-1]}",
        context=parent,
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "settle.event.id": event.id,
            "settle.event.attempt": event.attempts,
            "messaging.destination.name": event.destination,
        },
    )


def _traceparent(span: trace.Span, event: LeasedEvent) -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent", event.traceparent)


def _no_channel(event: LeasedEvent) -> LookupError:
    return LookupError(f"no channel for destination {event.destination!r}")


def _mark(span: trace.Span, error: BaseException | None) -> None:
    if isinstance(error, grpc.aio.AioRpcError):
        # The code only: the consumer's details may quote the payload.
        span.set_status(Status(StatusCode.ERROR, error.code().name))
    elif isinstance(error, LookupError):
        span.set_status(Status(StatusCode.ERROR, "no channel for destination"))
    elif error is not None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
