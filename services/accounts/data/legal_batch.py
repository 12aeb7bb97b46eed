"""Legal told of every posting on an account it has: the postings (allocations) on customers with an
active legal case, made since the hand-over and not yet reported, claimed with FOR UPDATE SKIP
LOCKED (replicas share them); each becomes a POSTING_REPORTED legal event (unique per allocation,
so reported once) and an outbox event in the claiming transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data.dunning_models import LegalCaseRow, LegalEventRow
from services.accounts.data.dunning_rows import table
from services.accounts.data.models import AllocationRow, CustomerRow, InvoiceRow, OutboxEventRow
from services.accounts.data.rows import Row
from services.accounts.domain.legal import LegalState

_a, _i, _lc, _le, _c = (
    AllocationRow.__table__,
    InvoiceRow.__table__,
    LegalCaseRow.__table__,
    LegalEventRow.__table__,
    CustomerRow.__table__,
)


class UnreportedPosting(NamedTuple):
    allocation_id: str
    case_id: str
    customer_id: str
    customer_name: str
    source_kind: str
    amount_minor: int
    currency: str
    invoice_number: str


_UNREPORTED = (
    select(_a.c.id, _lc.c.id, _lc.c.customer_id, _c.c.display_name, _a.c.source_kind,
           _a.c.amount_minor, _i.c.currency, _i.c.external_number)
    .join(_i, _i.c.id == _a.c.invoice_id)
    .join(_lc, _lc.c.customer_id == _i.c.customer_id)
    .join(_c, _c.c.id == _i.c.customer_id)
    .where(
        _lc.c.state != LegalState.CLOSED.value,
        _a.c.created_at >= _lc.c.created_at,
        ~select(_le.c.id).where(_le.c.allocation_id == _a.c.id).exists(),
    )
    .order_by(_a.c.created_at, _a.c.id)
    .limit(bindparam("limit"))
    .with_for_update(of=_a, skip_locked=True)
)  # fmt: skip


async def unreported(session: AsyncSession, limit: int) -> list[UnreportedPosting]:
    return [
        UnreportedPosting._make(r) for r in await session.execute(_UNREPORTED, {"limit": limit})
    ]


async def record(session: AsyncSession, events: Sequence[Row], outbox: Sequence[Row]) -> None:
    if events:
        await session.execute(insert(table(LegalEventRow)), list(events))
        await session.execute(insert(table(OutboxEventRow)), list(outbox))
