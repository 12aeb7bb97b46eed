"""The outbox's RecordEscalation events sent together: one RecordEscalations call (one transaction
in the disputes service) per relay pass instead of a call and a transaction per new escalation.
Each event travels with its own `outbox deliver` span's traceparent (the case's history entry
belongs to the breach's trace) and comes back with its own answer: a bad event is retried or
parked alone, exactly as its own RecordEscalation call would have been
(common/outbox_delivery.items_sender)."""

from __future__ import annotations

from common.outbox import BatchSender
from common.outbox_delivery import items_sender
from services.escalation.outbound import disputes
from settle.disputes.v1 import disputes_pb2 as pb

BATCH_METHOD = "/settle.disputes.v1.DisputesService/RecordEscalations"

# What the escalation relay registers (OutboxRelay batch_senders).
SENDERS: dict[str, BatchSender] = {
    disputes.RECORD_ESCALATION: items_sender(
        BATCH_METHOD, pb.RecordEscalationsRequest, pb.RecordEscalationRequest,
        pb.RecordEscalationsResponse,
    )
}  # fmt: skip
