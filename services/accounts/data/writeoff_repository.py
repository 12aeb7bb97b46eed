"""The write-off aggregate through the ORM unit of work: load a request as the domain value, save
the value the domain returned, read the approval limits and the balances it is checked against,
and post its keyed ledger entries on the invoices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import AlreadyExists
from services.accounts.data import dunning_rows, rows
from services.accounts.data.dunning_models import (
    ApprovalLimitRow,
    WriteOffApprovalRow,
    WriteOffLineRow,
    WriteOffReasonRow,
    WriteOffRow,
)
from services.accounts.data.models import AllocationRow, InvoiceRow
from services.accounts.data.repository import missing
from services.accounts.domain.records import SourceKind
from services.accounts.domain.writeoff import (
    Approval,
    ApprovalLimit,
    ApprovalPolicy,
    InvoiceBalance,
    LedgerEntry,
    WriteOff,
    WriteOffLine,
    WriteOffState,
)


def to_domain(row: WriteOffRow) -> WriteOff:
    return WriteOff(
        write_off_id=row.id,
        customer_id=row.customer_id,
        currency=row.currency,
        lines=tuple(WriteOffLine(line.invoice_id, line.amount_minor) for line in row.lines),
        reason_code=row.reason_code,
        evidence=tuple(row.evidence),
        requester=row.requester,
        editors=frozenset(row.editors),
        state=WriteOffState(row.state),
        required_approvals=row.required_approvals,
        approvals=tuple(Approval(a.approver, a.approved_at, a.limit_minor) for a in row.approvals),
        decided_by=row.decided_by or None,
        decision_note=row.decision_note,
    )


async def get(session: AsyncSession, write_off_id: str, for_update: bool = False) -> WriteOffRow:
    stmt = select(WriteOffRow).where(WriteOffRow.id == write_off_id)
    if for_update:
        stmt = stmt.with_for_update(of=WriteOffRow)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise missing("write-off", write_off_id)
    return row


def add(session: AsyncSession, w: WriteOff, now: datetime) -> WriteOffRow:
    row = WriteOffRow(
        **dunning_rows.write_off(w, 1, now, now),
        lines=[WriteOffLineRow(**line) for line in dunning_rows.write_off_lines(w)],
        approvals=[],
    )
    session.add(row)
    return row


def save(row: WriteOffRow, w: WriteOff, now: datetime) -> None:
    """Writes the domain's new value over the row; the version moves (the etag changes)."""
    values = dunning_rows.write_off(w, row.version + 1, row.created_at, now)
    for name in ("state", "required_approvals", "decided_by", "decision_note", "editors",
                 "evidence", "reason_code", "version", "updated_at"):  # fmt: skip
        setattr(row, name, values[name])
    if [(line.invoice_id, line.amount_minor) for line in row.lines] != [
        (line.invoice_id, line.amount_minor) for line in w.lines
    ]:
        row.lines = [WriteOffLineRow(**line) for line in dunning_rows.write_off_lines(w)]
    row.approvals = [
        WriteOffApprovalRow(**dunning_rows.write_off_approval(w.write_off_id, a))
        for a in w.approvals
    ]


async def policy(session: AsyncSession) -> ApprovalPolicy:
    limits = (await session.execute(select(ApprovalLimitRow))).scalars()
    return ApprovalPolicy(
        tuple(ApprovalLimit(r.currency, r.max_minor, role=r.role, user=r.user) for r in limits)
    )


async def reason_is_active(session: AsyncSession, code: str) -> bool:
    row = await session.get(WriteOffReasonRow, code)
    return row is not None and row.active


async def invoices(
    session: AsyncSession,
    customer_id: str,
    currency: str,
    invoice_ids: Sequence[str],
    for_update: bool = False,
) -> dict[str, InvoiceRow]:
    """The customer's invoices in the currency among `invoice_ids` (others are left out: the
    domain reports them as not open invoices of this customer)."""
    stmt = select(InvoiceRow).where(
        InvoiceRow.id.in_(list(invoice_ids)),
        InvoiceRow.customer_id == customer_id,
        InvoiceRow.currency == currency,
    )
    if for_update:
        stmt = stmt.order_by(InvoiceRow.id).with_for_update(of=InvoiceRow)
    return {row.id: row for row in (await session.execute(stmt)).scalars()}


def balances(invoices_by_id: dict[str, InvoiceRow]) -> dict[str, InvoiceBalance]:
    return {
        i.id: InvoiceBalance(i.id, i.open_minor, i.held_minor)
        for i in invoices_by_id.values()
        if i.open_minor > 0
    }


async def post_entries(
    session: AsyncSession,
    invoices_by_id: dict[str, InvoiceRow],
    entries: Sequence[LedgerEntry],
    today: date,
    now: datetime,
) -> None:
    """One allocation per entry, keyed: a second posting of the same entry is refused by the
    unique key, never written twice. A reversal's negative amount re-opens the invoice."""
    for entry in entries:
        invoice = invoices_by_id[entry.invoice_id]
        session.add(
            AllocationRow(
                **rows.allocation(
                    invoice.id, SourceKind.WRITE_OFF, entry.write_off_id, entry.amount_minor,
                    today, now, entry.reason_code, entry_key=entry.entry_key,
                )
            )
        )  # fmt: skip
        invoice.open_minor -= entry.amount_minor
        invoice.closed_date = today if invoice.open_minor == 0 else None
    try:
        await session.flush()
    except IntegrityError as twice:
        raise AlreadyExists("these write-off entries are already posted") from twice
