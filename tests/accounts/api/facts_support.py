"""The worklist's facts as their definition gives them, for the facts tests: aggregated anew
from the sources on every read, and the checks that the kept summary equals a recomputation and
that what the worklist derives from it equals the sources' figures."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, bindparam, case, func, select

from services.accounts.data import customer_facts, worklist_reads
from services.accounts.data.collections_models import (
    AssignmentRow,
    CustomerFactsAheadRow,
    CustomerFactsRow,
    InteractionRow,
    PromiseRow,
)
from services.accounts.data.dunning_models import NoticeRow
from services.accounts.data.models import CustomerRow, HoldRow, InvoiceRow
from services.accounts.domain.worklist import CustomerFacts
from tests.accounts.api.collections_support import CARL

# --- the facts from their sources: the worklist's definition, aggregated anew on every read ---
_a, _c, _inv = AssignmentRow.__table__, CustomerRow.__table__, InvoiceRow.__table__
_p, _i, _n, _h = (
    PromiseRow.__table__,
    InteractionRow.__table__,
    NoticeRow.__table__,
    HoldRow.__table__,
)
_today = bindparam("today", type_=_inv.c.due_date.type)


def _from_sources():
    overdue = and_(_inv.c.due_date < _today, _inv.c.open_minor > _inv.c.held_minor)
    counted = _inv.c.currency == func.coalesce(func.nullif(_c.c.currency_code, ""), _inv.c.currency)
    inv = (
        select(
            _inv.c.customer_id,
            func.max(_inv.c.currency).label("currency"),
            func.sum(_inv.c.open_minor).label("open_minor"),
            func.sum(_inv.c.held_minor).label("held_minor"),
            func.sum(case((overdue, _inv.c.open_minor - _inv.c.held_minor), else_=0)).label("od"),
            func.min(case((overdue, _inv.c.due_date))).label("oldest_due"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_inv.c.open_minor > 0, counted)
        .group_by(_inv.c.customer_id)
        .subquery()
    )
    disputes = (
        select(_inv.c.customer_id, func.count(_h.c.dispute.distinct()).label("n"))
        .join(_inv, _inv.c.id == _h.c.invoice_id)
        .where(_h.c.amount_minor > 0)
        .group_by(_inv.c.customer_id)
        .subquery()
    )
    is_open = _p.c.state == "OPEN"
    prom = (
        select(
            _p.c.customer_id,
            func.sum(case((is_open, _p.c.amount_minor), else_=0)).label("promised"),
            func.sum(case((_p.c.state == "BROKEN", 1), else_=0)).label("broken"),
            func.max(case((and_(is_open, _p.c.promised_date == _today), 1), else_=0)).label("dt"),
        )
        .group_by(_p.c.customer_id)
        .subquery()
    )
    last = select(func.max(_i.c.occurred_at)).where(_i.c.customer_id == _a.c.customer_id)
    call_back = (
        select(_i.c.call_back_at)
        .where(_i.c.customer_id == _a.c.customer_id)
        .order_by(_i.c.occurred_at.desc(), _i.c.created_at.desc())
        .limit(1)
    )
    task = select(func.max(_n.c.created_at)).where(
        _n.c.customer_id == _a.c.customer_id, _n.c.channel == "PHONE_TASK"
    )
    return (
        select(
            _a.c.customer_id,
            _c.c.display_name,
            _a.c.collector,
            func.coalesce(func.nullif(_c.c.currency_code, ""), inv.c.currency, ""),
            func.coalesce(inv.c.open_minor, 0),
            func.coalesce(inv.c.held_minor, 0),
            func.coalesce(prom.c.promised, 0),
            func.coalesce(inv.c.od, 0),
            inv.c.oldest_due,
            func.coalesce(prom.c.broken, 0),
            func.coalesce(prom.c.dt, 0),
            last.scalar_subquery(),
            call_back.scalar_subquery(),
            func.coalesce(disputes.c.n, 0),
            _c.c.credit_hold,
            _c.c.bankruptcy,
            _c.c.in_litigation,
            _c.c.risk_class,
            task.scalar_subquery(),
        )
        .join(_c, _c.c.id == _a.c.customer_id)
        .outerjoin(inv, inv.c.customer_id == _a.c.customer_id)
        .outerjoin(prom, prom.c.customer_id == _a.c.customer_id)
        .outerjoin(disputes, disputes.c.customer_id == _a.c.customer_id)
        .order_by(_a.c.customer_id)
    )


FROM_SOURCES = _from_sources()


async def _facts_from_sources(conn, today: date) -> list[CustomerFacts]:
    return [
        CustomerFacts(
            *r[:4], *(int(x) for x in r[4:8]), r[8], int(r[9]), bool(r[10]), r[11], r[12],
            int(r[13]), *r[14:]
        )
        for r in await conn.execute(FROM_SOURCES, {"today": today})
    ]  # fmt: skip


async def assert_facts_agree(desk, days=(0, 1, 3, 10, 40)) -> None:
    """What the worklist reads equals the facts aggregated from the sources, today and on the
    later days listed (no write in between: what falls due meanwhile comes from the dated rows)."""
    async with desk.parts.ctx.db.reading_connection() as conn:
        for later in days:
            day = desk.clock.today() + timedelta(days=later)
            summarised = await worklist_reads.facts(conn, "all", "", day)
            from_sources = await _facts_from_sources(conn, day)
            assert summarised == from_sources, f"{later} days later"
            # a collector's book: on PostgreSQL the statement that looks rows up by key
            book = await worklist_reads.facts(conn, "collector", CARL, day)
            assert book == [f for f in from_sources if f.collector == CARL]


async def assert_summary_is_a_recomputation(desk) -> None:
    """The summary kept by the writes equals the one a recomputation of every customer writes."""
    today, db = desk.clock.today(), desk.parts.ctx.db
    summary = select(CustomerFactsRow.__table__).order_by(CustomerFactsRow.customer_id)
    t = CustomerFactsAheadRow.__table__
    ahead = select(t).where(t.c.day >= today).order_by(t.c.customer_id, t.c.day)

    async def read():
        async with db.reading_connection() as conn:
            return (await conn.execute(summary)).all(), (await conn.execute(ahead)).all()

    kept = await read()
    async with db.transaction() as session:
        ids = (await session.execute(select(CustomerRow.id))).scalars().all()
        await customer_facts.refresh(session, ids, today)
    assert kept == await read()
    assert len(kept[0]) == len(ids)  # every customer has its row
