"""Display reads of write-offs: one request, and the write-off report — the requests and the
dispute resolutions that wrote off (allocations of kind WRITE_OFF without a request's entry key)
merged by UNION ALL, newest first. Core statements built once, bound parameters."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BindParameter, Integer, bindparam, literal, null, or_, select, union_all

from services.accounts.data.dunning_models import (
    WriteOffApprovalRow,
    WriteOffLineRow,
    WriteOffReasonRow,
    WriteOffRow,
)
from services.accounts.data.models import AllocationRow, InvoiceRow
from services.accounts.data.repository import missing
from services.accounts.domain.records import SourceKind

_w, _wl, _wa = WriteOffRow.__table__, WriteOffLineRow.__table__, WriteOffApprovalRow.__table__
_alloc, _inv = AllocationRow.__table__, InvoiceRow.__table__


class WriteOffRecord(NamedTuple):
    id: str
    source: str  # REQUEST | DISPUTE
    customer_id: str
    currency: str
    reason_code: str
    evidence: list[str] | None
    requester: str
    state: str
    required_approvals: int
    decided_by: str
    decision_note: str
    version: int
    created_at: datetime
    updated_at: datetime
    dispute_invoice_id: str | None  # a dispute's write-off: its one line
    dispute_amount_minor: int | None


class WriteOffLineRecord(NamedTuple):
    write_off_id: str
    invoice_id: str
    amount_minor: int


class ApprovalRecord(NamedTuple):
    write_off_id: str
    approver: str
    approved_at: datetime
    limit_minor: int


class WriteOffRead(NamedTuple):
    record: WriteOffRecord
    lines: list[WriteOffLineRecord]
    approvals: list[ApprovalRecord]


_customer: BindParameter[str] = bindparam("customer")
_all: BindParameter[bool] = bindparam("all")
_REQUESTS = select(
    _w.c.id, literal("REQUEST").label("source"), _w.c.customer_id, _w.c.currency,
    _w.c.reason_code, _w.c.evidence, _w.c.requester, _w.c.state, _w.c.required_approvals,
    _w.c.decided_by, _w.c.decision_note, _w.c.version, _w.c.created_at, _w.c.updated_at,
    null().label("dispute_invoice_id"), null().label("dispute_amount_minor"),
)  # fmt: skip
_DISPUTES = (
    select(
        _alloc.c.source_id,
        literal("DISPUTE"),
        _inv.c.customer_id,
        _inv.c.currency,
        _alloc.c.reason_code,
        null(),
        _alloc.c.source_id,
        literal("POSTED"),
        literal(0),
        literal(""),
        literal(""),
        literal(1),
        _alloc.c.created_at,
        _alloc.c.created_at,
        _alloc.c.invoice_id,
        _alloc.c.amount_minor,
    )
    .join(_inv, _inv.c.id == _alloc.c.invoice_id)
    .where(_alloc.c.source_kind == SourceKind.WRITE_OFF.value, _alloc.c.entry_key.is_(None))
)
_report = union_all(
    _REQUESTS.where(or_(_all, _w.c.customer_id == _customer)),
    _DISPUTES.where(or_(_all, _inv.c.customer_id == _customer)),
).subquery("report")
REPORT = (
    select(_report)
    .order_by(_report.c.created_at.desc(), _report.c.id)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
ONE = _REQUESTS.where(_w.c.id == bindparam("id"))
LINES = (
    select(_wl.c.write_off_id, _wl.c.invoice_id, _wl.c.amount_minor)
    .where(_wl.c.write_off_id.in_(bindparam("ids", expanding=True)))
    .order_by(_wl.c.write_off_id, _wl.c.position)
)
APPROVALS = (
    select(_wa.c.write_off_id, _wa.c.approver, _wa.c.approved_at, _wa.c.limit_minor)
    .where(_wa.c.write_off_id.in_(bindparam("ids", expanding=True)))
    .order_by(_wa.c.write_off_id, _wa.c.approved_at)
)
REASONS = (
    select(WriteOffReasonRow.code, WriteOffReasonRow.display_name)
    .where(WriteOffReasonRow.active.is_(True))
    .order_by(WriteOffReasonRow.code)
)


async def _complete(conn, records: list[WriteOffRecord]) -> list[WriteOffRead]:
    ids = [r.id for r in records if r.source == "REQUEST"]
    lines: dict[str, list[WriteOffLineRecord]] = {r.id: [] for r in records}
    approvals: dict[str, list[ApprovalRecord]] = {r.id: [] for r in records}
    if ids:
        for row in await conn.execute(LINES, {"ids": ids}):
            lines[row.write_off_id].append(WriteOffLineRecord._make(row))
        for row in await conn.execute(APPROVALS, {"ids": ids}):
            approvals[row.write_off_id].append(ApprovalRecord._make(row))
    for r in records:
        if r.source == "DISPUTE":
            lines[r.id] = [WriteOffLineRecord(r.id, r.dispute_invoice_id, r.dispute_amount_minor)]  # type: ignore[arg-type]
    return [WriteOffRead(r, lines[r.id], approvals[r.id]) for r in records]


async def write_off(conn, write_off_id: str) -> WriteOffRead:
    row = (await conn.execute(ONE, {"id": write_off_id})).first()
    if row is None:
        raise missing("write-off", write_off_id)
    return (await _complete(conn, [WriteOffRecord._make(row)]))[0]


async def report(conn, customer_id: str | None, offset: int, limit: int) -> list[WriteOffRead]:
    params = {"customer": customer_id or "", "all": customer_id is None, "offset": offset,
              "limit": limit}  # fmt: skip
    return await _complete(
        conn, [WriteOffRecord._make(r) for r in await conn.execute(REPORT, params)]
    )


async def reasons(conn) -> list[tuple[str, str]]:
    return [(code, name) for code, name in await conn.execute(REASONS)]
