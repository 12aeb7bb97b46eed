"""Write-off records -> protobuf."""

from __future__ import annotations

from common.etag import etag_of
from common.protoconv import minor_pb, timestamp
from services.accounts.data.dunning_models import WriteOffRow
from services.accounts.data.writeoff_reads import (
    ApprovalRecord,
    WriteOffLineRecord,
    WriteOffRead,
    WriteOffRecord,
)
from settle.accounts.v1 import accounts_pb2 as pb


def write_off(read: WriteOffRead) -> pb.WriteOff:
    r = read.record
    request = r.source == "REQUEST"

    def money(minor: int):
        return minor_pb(minor, r.currency)

    return pb.WriteOff(
        name=f"writeOffs/{r.id}" if request else r.id,
        uid=r.id,
        customer=f"customers/{r.customer_id}",
        currency_code=r.currency,
        lines=[
            pb.WriteOffLine(invoice=f"invoices/{line.invoice_id}", amount=money(line.amount_minor))
            for line in read.lines
        ],
        reason_code=r.reason_code,
        evidence=r.evidence or [],
        requester=r.requester,
        state=pb.WriteOff.State.Value(r.state),
        required_approvals=r.required_approvals,
        approvals=[
            pb.WriteOffApproval(
                approver=a.approver,
                approve_time=timestamp(a.approved_at),
                limit=money(a.limit_minor),
            )
            for a in read.approvals
        ],
        decided_by=r.decided_by,
        decision_note=r.decision_note,
        amount=money(sum(line.amount_minor for line in read.lines)),
        etag=etag_of(r.id, r.version) if request else "",
        create_time=timestamp(r.created_at),
        update_time=timestamp(r.updated_at),
        source=r.source,
    )


def write_off_row(row: WriteOffRow) -> pb.WriteOff:
    """The request as the unit of work left it (the answer of every command)."""
    record = WriteOffRecord(
        row.id, "REQUEST", row.customer_id, row.currency, row.reason_code, list(row.evidence),
        row.requester, row.state, row.required_approvals, row.decided_by, row.decision_note,
        row.version, row.created_at, row.updated_at, None, None,
    )  # fmt: skip
    return write_off(
        WriteOffRead(
            record,
            [WriteOffLineRecord(row.id, line.invoice_id, line.amount_minor) for line in row.lines],
            [
                ApprovalRecord(row.id, a.approver, a.approved_at, a.limit_minor)
                for a in row.approvals
            ],
        )
    )
