"""The worklist's per-customer facts (customer_facts, customer_facts_ahead): recomputed from their
sources, set-based, for the customers a write touched, in that write's transaction. Every write
path calls `refresh` with the customers it changed, but the open-item import: it only appends
new invoices, so `add_invoices` adds their figures to the summary (a chunk re-aggregating every
touched customer's whole book made the import ~30 % slower). Either way a summary is what a
recomputation from scratch gives (tests/accounts/api/test_worklist_facts_rpc.py).

Concurrent writers on PostgreSQL: `refresh` first locks the customers' summary rows (in id order),
so the second waits for the first to commit and then recomputes from what both wrote (READ
COMMITTED: each later statement sees the first's commit). SQLite runs one writer at a time.
`add_invoices` is an upsert: it locks the rows it adds to, and adds to what a concurrent
recomputation committed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Insert,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.id_set import in_ids
from services.accounts.data.collections_models import (
    CustomerFactsAheadRow,
    CustomerFactsRow,
    InteractionRow,
    PromiseRow,
)
from services.accounts.data.dunning_models import NoticeRow
from services.accounts.data.models import CustomerRow, HoldRow, InvoiceRow
from services.accounts.domain.ladder import Channel
from services.accounts.domain.promises import PromiseState

_f, _ahead = CustomerFactsRow.__table__, CustomerFactsAheadRow.__table__
_c, _inv, _h = CustomerRow.__table__, InvoiceRow.__table__, HoldRow.__table__
_p, _i, _n = PromiseRow.__table__, InteractionRow.__table__, NoticeRow.__table__
_ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
_since = bindparam("since", type_=_inv.c.due_date.type)
CHUNK = 1_000  # customers per statement (SQLite's bound-parameter limit)

# An open invoice counts in the customer's currency (others are never added to it); every
# currency when the customer has none.
_counted = and_(
    _inv.c.open_minor > 0,
    _inv.c.currency == func.coalesce(func.nullif(_c.c.currency_code, ""), _inv.c.currency),
)
_collectible = _inv.c.open_minor > _inv.c.held_minor
_open = _p.c.state == PromiseState.OPEN.value


def _computed():
    """Every column of customer_facts for the customers `ids`, from the sources."""
    invoices = (
        select(
            _inv.c.customer_id,
            func.max(_inv.c.currency).label("currency"),
            func.sum(_inv.c.open_minor).label("open_minor"),
            func.sum(_inv.c.held_minor).label("held_minor"),
            func.sum(case((_collectible, _inv.c.open_minor - _inv.c.held_minor), else_=0)).label(
                "collectible_minor"
            ),
            func.min(case((_collectible, _inv.c.due_date))).label("oldest_due"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_inv.c.customer_id.in_(_ids), _counted)
        .group_by(_inv.c.customer_id)
        .subquery("inv")
    )
    promises = (
        select(
            _p.c.customer_id,
            func.sum(case((_open, _p.c.amount_minor), else_=0)).label("promised_minor"),
            func.sum(case((_p.c.state == PromiseState.BROKEN.value, 1), else_=0)).label("broken"),
        )
        .where(_p.c.customer_id.in_(_ids))
        .group_by(_p.c.customer_id)
        .subquery("prom")
    )
    # a dispute counts once however many of the customer's invoices it holds
    disputes = (
        select(_inv.c.customer_id, func.count(_h.c.dispute.distinct()).label("open_disputes"))
        .join(_inv, _inv.c.id == _h.c.invoice_id)
        .where(_inv.c.customer_id.in_(_ids), _h.c.amount_minor > 0)
        .group_by(_inv.c.customer_id)
        .subquery("disputes")
    )
    last_contact = (
        select(func.max(_i.c.occurred_at)).where(_i.c.customer_id == _c.c.id).scalar_subquery()
    )
    call_back = (  # of the latest interaction
        select(_i.c.call_back_at)
        .where(_i.c.customer_id == _c.c.id)
        .order_by(_i.c.occurred_at.desc(), _i.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    phone_task = (  # the dunning ladder's latest (issue 14): open until the next contact
        select(func.max(_n.c.created_at))
        .where(_n.c.customer_id == _c.c.id, _n.c.channel == Channel.PHONE_TASK.value)
        .scalar_subquery()
    )
    return (
        select(
            _c.c.id.label("customer_id"),
            func.coalesce(invoices.c.currency, "").label("currency"),
            func.coalesce(invoices.c.open_minor, 0).label("open_minor"),
            func.coalesce(invoices.c.held_minor, 0).label("held_minor"),
            func.coalesce(invoices.c.collectible_minor, 0).label("collectible_minor"),
            invoices.c.oldest_due,
            func.coalesce(promises.c.promised_minor, 0).label("promised_minor"),
            func.coalesce(promises.c.broken, 0).label("broken_promises"),
            func.coalesce(disputes.c.open_disputes, 0).label("open_disputes"),
            last_contact.label("last_contact_at"),
            call_back.label("call_back_at"),
            phone_task.label("phone_task_at"),
        )
        .outerjoin(invoices, invoices.c.customer_id == _c.c.id)
        .outerjoin(promises, promises.c.customer_id == _c.c.id)
        .outerjoin(disputes, disputes.c.customer_id == _c.c.id)
        .where(_c.c.id.in_(_ids))
    )


def _ahead_rows():
    """customer_facts_ahead's rows of the customers `ids`, for the days from `since` on."""
    dated = union_all(
        select(
            _inv.c.customer_id,
            _inv.c.due_date.label("day"),
            (_inv.c.open_minor - _inv.c.held_minor).label("due_minor"),
            literal_column("0").label("open_promises"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_inv.c.customer_id.in_(_ids), _counted, _collectible, _inv.c.due_date >= _since),
        select(
            _p.c.customer_id,
            _p.c.promised_date,
            literal_column("0"),
            literal_column("1"),
        ).where(_p.c.customer_id.in_(_ids), _open, _p.c.promised_date >= _since),
    ).subquery("dated")
    return select(
        dated.c.customer_id,
        dated.c.day,
        func.sum(dated.c.due_minor),
        func.sum(dated.c.open_promises),
    ).group_by(dated.c.customer_id, dated.c.day)


_COLUMNS = [c.name for c in _f.columns]
_LOCK = (
    select(_f.c.customer_id)
    .where(_f.c.customer_id.in_(_ids))
    .order_by(_f.c.customer_id)
    .with_for_update()
)
_INSERT = insert(_f).from_select(_COLUMNS, _computed())
_new = _computed().subquery("new")
_UPDATE = (
    update(_f)
    .where(_f.c.customer_id == _new.c.customer_id)
    .values({name: _new.c[name] for name in _COLUMNS if name != "customer_id"})
)
_CLEAR_AHEAD = delete(_ahead).where(_ahead.c.customer_id.in_(_ids))
_INSERT_AHEAD = insert(_ahead).from_select(
    ["customer_id", "day", "due_minor", "open_promises"], _ahead_rows()
)


async def refresh(session: AsyncSession, customer_ids: Iterable[str], today: date) -> None:
    """Recompute these customers' facts from their sources, as this transaction sees them (its
    pending ORM changes flushed first). Call it last in the unit of work: it locks the summary
    rows until the commit."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    await session.flush()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = set((await session.execute(_LOCK, {"ids": chunk})).scalars())
        if found:
            await session.execute(_UPDATE, {"ids": sorted(found)})
        if new := [i for i in chunk if i not in found]:
            await session.execute(_INSERT, {"ids": new})
        await session.execute(_CLEAR_AHEAD, {"ids": chunk})
        await session.execute(_INSERT_AHEAD, {"ids": chunk, "since": today})


# --- what new invoices add (the import): the same columns, of these invoices only -------------
_new_invoice = in_ids(_inv.c.id, "invoices")


def _added():
    """Per customer of the invoices `invoices`: what they add to its summary's columns (every
    customer gets its row, zeros when none of its new invoices is counted)."""
    counted_collectible = and_(_counted, _collectible)
    return (
        select(
            _inv.c.customer_id,
            func.coalesce(func.max(case((_counted, _inv.c.currency))), ""),
            func.sum(case((_counted, _inv.c.open_minor), else_=0)),
            func.sum(case((_counted, _inv.c.held_minor), else_=0)),
            func.sum(case((counted_collectible, _inv.c.open_minor - _inv.c.held_minor), else_=0)),
            func.min(case((counted_collectible, _inv.c.due_date))),
            *(literal_column("0") for _ in range(3)),  # promised, broken, open disputes
            *(literal_column("NULL") for _ in range(3)),  # last contact, call-back, phone task
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_new_invoice)
        .group_by(_inv.c.customer_id)
        .order_by(_inv.c.customer_id)  # rows locked in id order, as `refresh` locks them
    )


def _added_ahead():
    return (
        select(
            _inv.c.customer_id,
            _inv.c.due_date,
            func.sum(_inv.c.open_minor - _inv.c.held_minor),
            literal_column("0"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_new_invoice, _counted, _collectible, _inv.c.due_date >= _since)
        .group_by(_inv.c.customer_id, _inv.c.due_date)
        .order_by(_inv.c.customer_id, _inv.c.due_date)
    )


def _first(a, b, later: bool = False) -> ColumnElement:
    """The smaller (`later`: the larger) of two values, either NULL meaning none (SQLite's
    min/max of NULL is NULL)."""
    return case((a.is_(None), b), (b.is_(None), a), ((b > a) if later else (b < a), b), else_=a)


def _upserts(dialect) -> tuple[Insert, Insert]:
    new = dialect.insert(_f).from_select(_COLUMNS, _added())
    x = new.excluded
    facts = new.on_conflict_do_update(
        index_elements=[_f.c.customer_id],
        set_={
            "currency": _first(_f.c.currency, x.currency, later=True),  # "" sorts first
            "open_minor": _f.c.open_minor + x.open_minor,
            "held_minor": _f.c.held_minor + x.held_minor,
            "collectible_minor": _f.c.collectible_minor + x.collectible_minor,
            "oldest_due": _first(_f.c.oldest_due, x.oldest_due),
        },
    )
    days = dialect.insert(_ahead).from_select(
        ["customer_id", "day", "due_minor", "open_promises"], _added_ahead()
    )
    ahead = days.on_conflict_do_update(
        index_elements=[_ahead.c.customer_id, _ahead.c.day],
        set_={"due_minor": _ahead.c.due_minor + days.excluded.due_minor},
    )
    return facts, ahead


_UPSERTS = {"postgresql": _upserts(postgresql), "sqlite": _upserts(sqlite)}


async def add_invoices(session: AsyncSession, invoice_ids: Iterable[str], today: date) -> None:
    """Add these new invoices (written in this transaction, nothing else changed) to their
    customers' facts: two set-based upserts per chunk of invoices, where `refresh` would
    re-aggregate the customers' whole books."""
    ids = sorted(invoice_ids)
    facts, ahead = _UPSERTS[session.bind.dialect.name]
    await session.flush()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.execute(facts, {"invoices": chunk})
        await session.execute(ahead, {"invoices": chunk, "since": today})


# --- what judging OPEN promises takes away (the evaluator): nothing else changes --------------
_judged = in_ids(_p.c.id, "promises")
_left = (
    select(
        _p.c.customer_id,
        func.sum(_p.c.amount_minor).label("amount_minor"),
        func.sum(case((_p.c.state == PromiseState.BROKEN.value, 1), else_=0)).label("broken"),
    )
    .where(_judged)
    .group_by(_p.c.customer_id)
    .subquery("judged")
)
_TAKE_PROMISED = (
    update(_f)
    .where(_f.c.customer_id == _left.c.customer_id)
    .values(
        promised_minor=_f.c.promised_minor - _left.c.amount_minor,
        broken_promises=_f.c.broken_promises + _left.c.broken,
    )
)
_left_days = (
    select(_p.c.customer_id, _p.c.promised_date, func.count().label("promises"))
    .where(_judged)
    .group_by(_p.c.customer_id, _p.c.promised_date)
    .subquery("judged_days")
)
# A day's row, where there is one, counted these promises (every write since their creation
# recomputed or added to it); one whose figures reach zero goes, as a recomputation has none.
_TAKE_AHEAD = (
    update(_ahead)
    .where(
        _ahead.c.customer_id == _left_days.c.customer_id,
        _ahead.c.day == _left_days.c.promised_date,
    )
    .values(open_promises=_ahead.c.open_promises - _left_days.c.promises)
)
_DROP_EMPTY_DAYS = delete(_ahead).where(
    _ahead.c.customer_id.in_(_ids), _ahead.c.open_promises == 0, _ahead.c.due_minor == 0
)


async def judge_promises(
    session: AsyncSession, promise_ids: Iterable[str], customer_ids: Iterable[str], today: date
) -> None:
    """These OPEN promises were just judged (their new states written in this transaction,
    nothing else of their customers changed): their amounts leave the customers' promised
    figures and their days, the broken ones count. Three statements per chunk where `refresh`
    re-aggregates every judged customer's invoices and promises (a pass judges hundreds). When a
    customer has no summary row yet (written before the summary existed), all are recomputed."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    await session.flush()
    found = set()
    for start in range(0, len(ids), CHUNK):
        found |= set((await session.execute(_LOCK, {"ids": ids[start : start + CHUNK]})).scalars())
    if len(found) < len(ids):
        await refresh(session, ids, today)
        return
    judged = sorted(promise_ids)
    for start in range(0, len(judged), CHUNK):
        chunk = {"promises": judged[start : start + CHUNK]}
        await session.execute(_TAKE_PROMISED, chunk)
        await session.execute(_TAKE_AHEAD, chunk)
    for start in range(0, len(ids), CHUNK):
        await session.execute(_DROP_EMPTY_DAYS, {"ids": ids[start : start + CHUNK]})
