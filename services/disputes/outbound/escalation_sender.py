"""The outbox's RaiseEscalation events sent together: one RaiseEscalations call (one transaction in
the escalation service) per relay pass instead of a call and a transaction per event. Each event
travels with its own `outbox deliver` span's traceparent, so every breach stays traceable into the
escalation service, and comes back with its own answer: a bad event is retried or parked alone,
exactly as its own RaiseEscalation call would have been (common/outbox_delivery.items_sender)."""

from __future__ import annotations

from common.outbox import BatchSender
from common.outbox_delivery import items_sender
from services.disputes.outbound import escalation_messages
from settle.escalation.v1 import escalation_pb2 as pb

BATCH_METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalations"

# What the disputes relay registers (OutboxRelay batch_senders).
SENDERS: dict[str, BatchSender] = {
    escalation_messages.METHOD: items_sender(
        BATCH_METHOD, pb.RaiseEscalationsRequest, pb.RaiseEscalationRequest,
        pb.RaiseEscalationsResponse,
    )
}  # fmt: skip
