"""The outbox's RaiseEscalation events sent together: one RaiseEscalations call (one transaction in
the escalation service) per relay pass instead of a call and a transaction per event. Each event
travels with its own `outbox deliver` span's traceparent, so every breach stays traceable into the
escalation service, and comes back with its own answer: a bad event is retried or parked alone,
exactly as its own RaiseEscalation call would have been."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from opentelemetry import context as otel_context

from common.outbox import BatchSender, LeasedEvent
from common.tracing import context_from
from services.disputes.outbound import escalation_messages
from settle.escalation.v1 import escalation_pb2 as pb

BATCH_METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalations"
_CODES = {code.value[0]: code for code in grpc.StatusCode}


async def send_raises(
    channel: grpc.aio.Channel, events: Sequence[LeasedEvent], deadline_s: float
) -> list[BaseException | None]:
    request = pb.RaiseEscalationsRequest(
        items=[
            pb.RaiseEscalationsRequest.Item(
                request=pb.RaiseEscalationRequest.FromString(e.payload),
                traceparent=e.traceparent or "",
            )
            for e in events
        ]
    )
    try:
        body = await channel.unary_unary(BATCH_METHOD)(
            request.SerializeToString(), timeout=deadline_s
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise  # every event is retried
        # An escalation service from before RaiseEscalations (a rolling update): one by one,
        # rather than parking every event as if each were refused.
        return list(await asyncio.gather(*(_one(channel, e, deadline_s) for e in events)))
    return [
        None if result.HasField("escalation") else _error(result.error)
        for result in pb.RaiseEscalationsResponse.FromString(body).results
    ]


async def _one(channel: grpc.aio.Channel, event: LeasedEvent, deadline_s: float):
    token = otel_context.attach(context_from(event.traceparent) or otel_context.get_current())
    try:
        # The event's id travels once, as the request's request_id (common/outbox.py sets it).
        await channel.unary_unary(event.method)(event.payload, timeout=deadline_s)
        return None
    except grpc.aio.AioRpcError as exc:
        return exc
    finally:
        otel_context.detach(token)


def _error(status) -> grpc.aio.AioRpcError:
    """The item's status as the error its own call would have raised (the relay reads the code:
    INVALID_ARGUMENT parks the event, others retry it)."""
    return grpc.aio.AioRpcError(
        _CODES.get(status.code, grpc.StatusCode.UNKNOWN),
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details=status.message,
    )


# What the disputes relay registers (OutboxRelay batch_senders).
SENDERS: dict[str, BatchSender] = {escalation_messages.METHOD: send_raises}
