"""Display reads of dunning: a customer's notices with their lines, one notice, the recipient of a
notice or statement, and the open invoices a statement lists. Core statements built once, bound
parameters, one record type each."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, func, or_, select

from services.accounts.data.dunning_models import LegalCaseRow, NoticeLineRow, NoticeRow
from services.accounts.data.models import (
    AllocationRow,
    ContactRow,
    CustomerRow,
    HoldMovementRow,
    InvoiceRow,
)
from services.accounts.data.report_reads import after_on
from services.accounts.data.repository import missing
from services.accounts.domain.legal import LegalState

_n, _nl, _c, _ct = (
    NoticeRow.__table__,
    NoticeLineRow.__table__,
    CustomerRow.__table__,
    (ContactRow.__table__),
)
_inv, _lc = InvoiceRow.__table__, LegalCaseRow.__table__


class NoticeRecord(NamedTuple):
    id: str
    key: str
    customer_id: str
    currency: str
    level: int
    level_code: str
    business_date: date
    ladder_id: str
    ladder_version: int
    channel: str
    template_id: str
    total_minor: int
    unallocated_cash_minor: int
    state: str
    attempts: int
    last_error: str
    available_at: datetime
    created_at: datetime
    sent_at: datetime | None


class NoticeLineRecord(NamedTuple):
    notice_id: str
    invoice_id: str
    position: int
    number: str
    due_date: date
    open_minor: int
    held_minor: int
    promised_minor: int
    in_legal_minor: int
    claimed_paid_minor: int
    due_now_minor: int


class NoticeRead(NamedTuple):
    notice: NoticeRecord
    lines: list[NoticeLineRecord]


_NOTICE_COLUMNS = [_n.c[name] for name in NoticeRecord._fields]
NOTICE = select(*_NOTICE_COLUMNS).where(_n.c.id == bindparam("id"))
NOTICES = (
    select(*_NOTICE_COLUMNS)
    .where(_n.c.customer_id == bindparam("customer"))
    .order_by(_n.c.created_at.desc(), _n.c.id)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
LINES = (
    select(*[_nl.c[name] for name in NoticeLineRecord._fields])
    .where(_nl.c.notice_id.in_(bindparam("ids", expanding=True)))
    .order_by(_nl.c.notice_id, _nl.c.position)
)


async def _with_lines(conn, notices: list[NoticeRecord]) -> list[NoticeRead]:
    lines: dict[str, list[NoticeLineRecord]] = {n.id: [] for n in notices}
    if notices:
        for row in await conn.execute(LINES, {"ids": [*lines]}):
            line = NoticeLineRecord._make(row)
            lines[line.notice_id].append(line)
    return [NoticeRead(n, lines[n.id]) for n in notices]


async def notice(conn, notice_id: str) -> NoticeRead:
    row = (await conn.execute(NOTICE, {"id": notice_id})).first()
    if row is None:
        raise missing("notice", notice_id)
    return (await _with_lines(conn, [NoticeRecord._make(row)]))[0]


async def notices(conn, customer_id: str, offset: int, limit: int) -> list[NoticeRead]:
    params = {"customer": customer_id, "offset": offset, "limit": limit}
    return await _with_lines(
        conn, [NoticeRecord._make(r) for r in await conn.execute(NOTICES, params)]
    )


class RecipientRecord(NamedTuple):
    customer_id: str
    display_name: str
    currency_code: str
    contacts: list[tuple[str, str, str]]  # (name, e-mail, language) in order


CUSTOMER = select(_c.c.id, _c.c.display_name, _c.c.currency_code).where(
    _c.c.id == bindparam("customer")
)
CONTACTS = (
    select(_ct.c.name, _ct.c.email, _ct.c.language)
    .where(_ct.c.customer_id == bindparam("customer"))
    .order_by(_ct.c.position)
)


async def recipient(conn, customer_id: str) -> RecipientRecord:
    row = (await conn.execute(CUSTOMER, {"customer": customer_id})).first()
    if row is None:
        raise missing("customer", customer_id)
    contacts = [tuple(c) for c in await conn.execute(CONTACTS, {"customer": customer_id})]
    return RecipientRecord(row.id, row.display_name, row.currency_code, contacts)


ACTIVE_LEGAL_CASE = select(_lc.c.id).where(
    _lc.c.customer_id == bindparam("customer"), _lc.c.state != LegalState.CLOSED.value
)


async def has_active_legal_case(conn, customer_id: str) -> bool:
    return (await conn.execute(ACTIVE_LEGAL_CASE, {"customer": customer_id})).first() is not None


WITH_ACTIVE_LEGAL_CASE = (
    select(_lc.c.customer_id).where(_lc.c.state != LegalState.CLOSED.value).distinct()
)


async def customers_with_legal_case(conn) -> list[str]:
    """The customers with an active legal case (what a Legal-only caller's figures cover)."""
    return list((await conn.execute(WITH_ACTIVE_LEGAL_CASE)).scalars())


class StatementItem(NamedTuple):
    """An invoice open on the statement's date, its amounts as they stood at the end of it."""

    id: str
    number: str
    currency: str
    due_date: date
    open_minor: int
    held_minor: int


_alloc, _moves = AllocationRow.__table__, HoldMovementRow.__table__
# Issued by D, not closed by D; today's open and held amounts rolled back by the allocations
# (payments, credits, write-offs, reversals) and the hold movements dated after D.
_allocated_after = after_on(_alloc.c.invoice_id, _alloc.c.amount_minor, _alloc.c.applied_date)
_held_after = after_on(_moves.c.invoice_id, _moves.c.delta_minor, _moves.c.occurred_on)
_open_then = _inv.c.open_minor + func.coalesce(_allocated_after.c.minor, 0)
STATEMENT_ITEMS = (
    select(
        _inv.c.id, _inv.c.external_number, _inv.c.currency, _inv.c.due_date, _open_then,
        _inv.c.held_minor - func.coalesce(_held_after.c.minor, 0),
    )
    .outerjoin(_allocated_after, _allocated_after.c.invoice_id == _inv.c.id)
    .outerjoin(_held_after, _held_after.c.invoice_id == _inv.c.id)
    .where(
        _inv.c.customer_id == bindparam("customer"),
        _inv.c.invoice_date <= bindparam("on"),
        or_(_inv.c.closed_date.is_(None), _inv.c.closed_date > bindparam("on")),
        _open_then > 0,
    )
    .order_by(_inv.c.currency, _inv.c.due_date, _inv.c.id)
)  # fmt: skip


async def statement_items(conn, customer_id: str, on: date) -> list[StatementItem]:
    """The customer's invoices open at the end of `on` with their amounts then (a past date
    shows the ledger as it was: a payment after it is not taken off)."""
    rows = await conn.execute(STATEMENT_ITEMS, {"customer": customer_id, "on": on})
    return [StatementItem._make(r) for r in rows.all()]
