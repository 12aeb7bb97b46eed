"""Display reads of legal cases: one case, or a page of them (one customer's or all), each with
its hand-over snapshot and history. Core statements built once, bound parameters."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import BindParameter, Integer, bindparam, or_, select

from services.accounts.data.dunning_models import LegalCaseRow, LegalEventRow, LegalSnapshotLineRow
from services.accounts.data.models import CustomerRow
from services.accounts.data.repository import missing
from services.accounts.domain.legal import LegalState

_lc, _ls, _le, _c = (
    LegalCaseRow.__table__,
    LegalSnapshotLineRow.__table__,
    LegalEventRow.__table__,
    CustomerRow.__table__,
)


class LegalCaseRecord(NamedTuple):
    id: str
    customer_id: str
    customer_name: str
    trigger: str
    state: str
    version: int
    created_at: datetime
    updated_at: datetime


class SnapshotLineRecord(NamedTuple):
    case_id: str
    currency: str
    as_of: date
    invoice_id: str
    number: str
    due_date: date
    open_minor: int
    held_minor: int
    promised_minor: int
    to_collect_minor: int


class LegalEventRecord(NamedTuple):
    case_id: str
    kind: str
    occurred_at: datetime
    actor: str
    note: str


class LegalCaseRead(NamedTuple):
    case: LegalCaseRecord
    snapshot: list[SnapshotLineRecord]
    events: list[LegalEventRecord]


_CASES = select(
    _lc.c.id, _lc.c.customer_id, _c.c.display_name, _lc.c.trigger, _lc.c.state, _lc.c.version,
    _lc.c.created_at, _lc.c.updated_at,
).join(_c, _c.c.id == _lc.c.customer_id)  # fmt: skip
CASE = _CASES.where(_lc.c.id == bindparam("id"))
_active = _lc.alias("active")
_WITH_ACTIVE_CASE = select(_active.c.customer_id).where(_active.c.state != LegalState.CLOSED.value)
CASES = (
    _CASES.where(
        or_(bindparam("all"), _lc.c.customer_id == bindparam("customer")),
        or_(bindparam("any_customer"), _lc.c.customer_id.in_(_WITH_ACTIVE_CASE)),
    )
    .order_by(_lc.c.created_at.desc(), _lc.c.id)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
_ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
SNAPSHOT = (
    select(*[_ls.c[n] for n in SnapshotLineRecord._fields])
    .where(_ls.c.case_id.in_(_ids))
    .order_by(_ls.c.case_id, _ls.c.currency, _ls.c.position)
)
EVENTS = (
    select(*[_le.c[n] for n in LegalEventRecord._fields])
    .where(_le.c.case_id.in_(_ids))
    .order_by(_le.c.case_id, _le.c.occurred_at, _le.c.id)
)


async def _complete(conn, cases: list[LegalCaseRecord]) -> list[LegalCaseRead]:
    snapshot: dict[str, list[SnapshotLineRecord]] = {c.id: [] for c in cases}
    events: dict[str, list[LegalEventRecord]] = {c.id: [] for c in cases}
    if cases:
        for row in await conn.execute(SNAPSHOT, {"ids": [*snapshot]}):
            snapshot[row.case_id].append(SnapshotLineRecord._make(row))
        for row in await conn.execute(EVENTS, {"ids": [*events]}):
            events[row.case_id].append(LegalEventRecord._make(row))
    return [LegalCaseRead(c, snapshot[c.id], events[c.id]) for c in cases]


async def case(conn, case_id: str) -> LegalCaseRead:
    row = (await conn.execute(CASE, {"id": case_id})).first()
    if row is None:
        raise missing("legal case", case_id)
    return (await _complete(conn, [LegalCaseRecord._make(row)]))[0]


async def cases(
    conn, customer_id: str | None, offset: int, limit: int, with_legal: bool = False
) -> list[LegalCaseRead]:
    """`with_legal`: only the cases of customers with an active legal case."""
    params = {"all": customer_id is None, "customer": customer_id or "", "offset": offset,
              "limit": limit, "any_customer": not with_legal}  # fmt: skip
    return await _complete(
        conn, [LegalCaseRecord._make(r) for r in await conn.execute(CASES, params)]
    )
