"""An invoice's movements one by one (ListHoldMovements, ListLedgerPostings): the rows behind its
held and open totals, newest first, as prebuilt Core statements returning one record type each.

A hold movement records no cause of its own; what made it is read from what was written with it:
a hold's first movement is written with the hold (same time), and a dispute's credit or write-off
shrinks its hold in the transaction that posts the ledger line (same invoice, time and amount).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, literal, or_, select

from services.accounts.data.models import (
    AllocationRow,
    CreditNoteRow,
    HoldMovementRow,
    HoldRow,
    InvoiceRow,
)
from services.accounts.data.repository import missing
from services.accounts.domain.records import SourceKind

_moves, _holds, _invoices = HoldMovementRow.__table__, HoldRow.__table__, InvoiceRow.__table__
_postings, _credits = AllocationRow.__table__, CreditNoteRow.__table__
INVOICE_CUSTOMER = select(_invoices.c.customer_id).where(_invoices.c.id == bindparam("invoice"))


class HoldMovementRecord(NamedTuple):
    id: str
    invoice_id: str
    hold_id: str
    dispute: str
    kind: str  # PLACED, INCREASED, RELEASED, CREDITED, WRITTEN_OFF
    delta_minor: int
    currency: str
    occurred_at: datetime
    posting_id: str | None  # the ledger line of a CREDITED or WRITTEN_OFF movement


# The posting a shrink was written with: the dispute's own credit note or write-off (its source
# id is the credit note's, or the dispute's name), same invoice, time and amount. Several equal
# adjustments at one instant are told apart by nothing, so the first is named.
_ADJUSTMENT = (
    select(_postings.c.id)
    .where(
        _postings.c.invoice_id == _moves.c.invoice_id,
        _postings.c.created_at == _moves.c.occurred_at,
        _postings.c.amount_minor == -_moves.c.delta_minor,
        or_(
            and_(
                _postings.c.source_kind == SourceKind.WRITE_OFF.value,
                _postings.c.source_id == _holds.c.dispute,
            ),
            and_(
                _postings.c.source_kind == SourceKind.CREDIT_NOTE.value,
                _postings.c.source_id.in_(
                    select(_credits.c.id).where(_credits.c.dispute == _holds.c.dispute)
                ),
            ),
        ),
    )
    .order_by(_postings.c.id)
    .limit(1)
    .scalar_subquery()
)
_shrink = _postings.alias("shrink")
_grown = case((_moves.c.occurred_at == _holds.c.created_at, "PLACED"), else_="INCREASED")
_KIND = case(
    (_moves.c.delta_minor > 0, _grown),
    (_shrink.c.source_kind == SourceKind.CREDIT_NOTE.value, literal("CREDITED")),
    (_shrink.c.source_kind == SourceKind.WRITE_OFF.value, literal("WRITTEN_OFF")),
    else_=literal("RELEASED"),
)
HOLD_MOVEMENTS = (
    select(
        _moves.c.id,
        _moves.c.invoice_id,
        _moves.c.hold_id,
        _holds.c.dispute,
        _KIND,
        _moves.c.delta_minor,
        _invoices.c.currency,
        _moves.c.occurred_at,
        _shrink.c.id,
    )
    .join(_holds, _holds.c.id == _moves.c.hold_id)
    .join(_invoices, _invoices.c.id == _moves.c.invoice_id)
    .outerjoin(_shrink, (_moves.c.delta_minor < 0) & (_shrink.c.id == _ADJUSTMENT))
    .where(_moves.c.invoice_id == bindparam("invoice"))
    .order_by(_moves.c.occurred_at.desc(), _moves.c.id.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)


class PostingRecord(NamedTuple):
    id: str
    invoice_id: str
    kind: str  # SourceKind
    source_id: str
    amount_minor: int
    currency: str
    applied_date: date
    reason_code: str
    entry_key: str | None
    created_at: datetime


POSTINGS = (
    select(
        _postings.c.id,
        _postings.c.invoice_id,
        _postings.c.source_kind,
        _postings.c.source_id,
        _postings.c.amount_minor,
        _invoices.c.currency,
        _postings.c.applied_date,
        _postings.c.reason_code,
        _postings.c.entry_key,
        _postings.c.created_at,
    )
    .join(_invoices, _invoices.c.id == _postings.c.invoice_id)
    .where(_postings.c.invoice_id == bindparam("invoice"))
    .order_by(_postings.c.created_at.desc(), _postings.c.id.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)


async def invoice_customer(conn, invoice_id: str) -> str:
    """The invoice's customer; NOT_FOUND when there is no such invoice."""
    customer_id = await conn.scalar(INVOICE_CUSTOMER, {"invoice": invoice_id})
    if customer_id is None:
        raise missing("invoice", invoice_id)
    return customer_id


async def hold_movements(
    conn, invoice_id: str, offset: int, limit: int
) -> list[HoldMovementRecord]:
    params = {"invoice": invoice_id, "offset": offset, "limit": limit}
    return [HoldMovementRecord._make(r) for r in await conn.execute(HOLD_MOVEMENTS, params)]


async def postings(conn, invoice_id: str, offset: int, limit: int) -> list[PostingRecord]:
    params = {"invoice": invoice_id, "offset": offset, "limit": limit}
    return [PostingRecord._make(r) for r in await conn.execute(POSTINGS, params)]
