"""An invoice's hold movements and ledger postings -> protobuf."""

from __future__ import annotations

from common.protoconv import minor_pb, timestamp
from services.accounts.data.ledger_reads import HoldMovementRecord, PostingRecord
from services.accounts.domain.records import SourceKind
from settle.accounts.v1 import accounts_pb2 as pb

# Where each kind of posting comes from, as a resource name (a reversal names the posting it
# takes back; a dispute's write-off, which has no write-off resource, names the dispute).
_SOURCES = {
    SourceKind.PAYMENT.value: "payments/{source}",
    SourceKind.CREDIT_NOTE.value: "creditNotes/{source}",
    SourceKind.REVERSAL.value: "invoices/{invoice}/postings/{source}",
}


def _posting_name(invoice_id: str, posting_id: str) -> str:
    return f"invoices/{invoice_id}/postings/{posting_id}"


def hold_movement(r: HoldMovementRecord) -> pb.HoldMovement:
    return pb.HoldMovement(
        name=f"invoices/{r.invoice_id}/holdMovements/{r.id}",
        hold=f"invoices/{r.invoice_id}/holds/{r.hold_id}",
        dispute=r.dispute,
        kind=r.kind,
        amount=minor_pb(r.delta_minor, r.currency),
        occur_time=timestamp(r.occurred_at),
        posting=_posting_name(r.invoice_id, r.posting_id) if r.posting_id else "",
    )


def _source(r: PostingRecord) -> str:
    if r.kind == SourceKind.WRITE_OFF.value:
        # a write-off resource's entries are keyed; a dispute's write-off is not
        return f"writeOffs/{r.source_id}" if r.entry_key else r.source_id
    return _SOURCES[r.kind].format(source=r.source_id, invoice=r.invoice_id)


def posting(r: PostingRecord) -> pb.LedgerPosting:
    return pb.LedgerPosting(
        name=_posting_name(r.invoice_id, r.id),
        kind=r.kind,
        source=_source(r),
        amount=minor_pb(r.amount_minor, r.currency),
        applied_date=r.applied_date.isoformat(),
        reason_code=r.reason_code,
        entry_key=r.entry_key or "",
        create_time=timestamp(r.created_at),
    )
