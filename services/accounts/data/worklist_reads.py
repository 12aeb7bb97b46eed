"""The worklist's facts: one set-based statement for every customer in scope (a collector's, a
team's, or one customer's), each source grouped by customer and joined to the assignments.
Built once per scope at import; every value a bound parameter."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, select

from services.accounts.data.collections_models import (
    AssignmentRow,
    InteractionRow,
    PromiseRow,
    WorklistRuleRow,
    WorklistStrategyRow,
)
from services.accounts.data.dunning_models import NoticeRow
from services.accounts.data.models import CustomerRow, HoldRow, InvoiceRow
from services.accounts.data.repository import missing
from services.accounts.domain.ladder import Channel
from services.accounts.domain.promises import PromiseState
from services.accounts.domain.worklist import CustomerFacts, Rule, Strategy

_a, _c, _inv = AssignmentRow.__table__, CustomerRow.__table__, InvoiceRow.__table__
_p, _i = PromiseRow.__table__, InteractionRow.__table__
_n, _h = NoticeRow.__table__, HoldRow.__table__
_today = bindparam("today", type_=_inv.c.due_date.type)
_zero = 0

SCOPES = {
    "collector": _a.c.collector == bindparam("collector"),
    "team": _a.c.team == bindparam("team"),
    "all": _a.c.customer_id.is_not(None),
    "customer": _a.c.customer_id == bindparam("customer"),
}


def _facts(scope) -> Select:
    in_scope = select(_a.c.customer_id).where(scope)
    overdue = and_(_inv.c.due_date < _today, _inv.c.open_minor > _inv.c.held_minor)
    # amounts in the customer's currency (others are never added to it); all when it has none
    same_currency = _inv.c.currency == func.coalesce(
        func.nullif(_c.c.currency_code, ""), _inv.c.currency
    )
    invoices = (
        select(
            _inv.c.customer_id,
            func.max(_inv.c.currency).label("currency"),
            func.sum(_inv.c.open_minor).label("open_minor"),
            func.sum(_inv.c.held_minor).label("held_minor"),
            func.sum(case((overdue, _inv.c.open_minor - _inv.c.held_minor), else_=0)).label(
                "overdue_minor"
            ),
            func.min(case((overdue, _inv.c.due_date))).label("oldest_due"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_inv.c.customer_id.in_(in_scope), _inv.c.open_minor > 0, same_currency)
        .group_by(_inv.c.customer_id)
        .subquery("inv")
    )
    # a dispute counts once however many of the customer's invoices it holds
    disputes = (
        select(_inv.c.customer_id, func.count(_h.c.dispute.distinct()).label("open_disputes"))
        .join(_inv, _inv.c.id == _h.c.invoice_id)
        .where(_inv.c.customer_id.in_(in_scope), _h.c.amount_minor > 0)
        .group_by(_inv.c.customer_id)
        .subquery("disputes")
    )
    open_ = _p.c.state == PromiseState.OPEN.value
    promises = (
        select(
            _p.c.customer_id,
            func.sum(case((open_, _p.c.amount_minor), else_=0)).label("promised_minor"),
            func.sum(case((_p.c.state == PromiseState.BROKEN.value, 1), else_=0)).label("broken"),
            func.max(case((and_(open_, _p.c.promised_date == _today), 1), else_=0)).label(
                "due_today"
            ),
        )
        .where(_p.c.customer_id.in_(in_scope))
        .group_by(_p.c.customer_id)
        .subquery("prom")
    )
    contacts = (
        select(_i.c.customer_id, func.max(_i.c.occurred_at).label("last_contact_at"))
        .where(_i.c.customer_id.in_(in_scope))
        .group_by(_i.c.customer_id)
        .subquery("contacts")
    )
    latest = _i.alias("latest")
    call_back = (
        select(latest.c.call_back_at)
        .where(latest.c.customer_id == _a.c.customer_id)
        .order_by(latest.c.occurred_at.desc(), latest.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    # the dunning ladder's latest phone task (issue 14): open until the next contact
    phone_task = (
        select(func.max(_n.c.created_at))
        .where(_n.c.customer_id == _a.c.customer_id, _n.c.channel == Channel.PHONE_TASK.value)
        .scalar_subquery()
    )
    return (
        select(
            _a.c.customer_id,
            _c.c.display_name,
            _a.c.collector,
            func.coalesce(func.nullif(_c.c.currency_code, ""), invoices.c.currency, "").label(
                "currency"
            ),
            func.coalesce(invoices.c.open_minor, _zero),
            func.coalesce(invoices.c.held_minor, _zero),
            func.coalesce(promises.c.promised_minor, _zero),
            func.coalesce(invoices.c.overdue_minor, _zero),
            invoices.c.oldest_due,
            func.coalesce(promises.c.broken, _zero),
            func.coalesce(promises.c.due_today, _zero),
            contacts.c.last_contact_at,
            call_back.label("call_back_at"),
            func.coalesce(disputes.c.open_disputes, _zero),
            _c.c.credit_hold,
            _c.c.bankruptcy,
            _c.c.in_litigation,
            _c.c.risk_class,
            phone_task.label("phone_task_at"),
        )
        .join(_c, _c.c.id == _a.c.customer_id)
        .outerjoin(invoices, invoices.c.customer_id == _a.c.customer_id)
        .outerjoin(promises, promises.c.customer_id == _a.c.customer_id)
        .outerjoin(contacts, contacts.c.customer_id == _a.c.customer_id)
        .outerjoin(disputes, disputes.c.customer_id == _a.c.customer_id)
        .where(scope)
        .order_by(_a.c.customer_id)
    )


FACTS = {name: _facts(scope) for name, scope in SCOPES.items()}
ASSIGNED_TO = select(_a.c.collector).where(_a.c.customer_id == bindparam("customer"))


class FactsRecord(NamedTuple):
    customer_id: str
    display_name: str
    collector: str
    currency: str
    open_minor: int
    held_minor: int
    promised_minor: int  # open promises' full amounts: service/worklist places them per invoice
    overdue_minor: int
    oldest_due: date | None
    broken_promises: int
    promise_due_today: int
    last_contact_at: datetime | None
    call_back_at: datetime | None
    open_disputes: int
    credit_hold: bool
    bankruptcy: bool
    in_litigation: bool
    risk_class: str
    phone_task_at: datetime | None


def _facts_of(r: FactsRecord) -> CustomerFacts:
    return CustomerFacts(
        customer_id=r.customer_id,
        display_name=r.display_name,
        collector=r.collector,
        currency=r.currency,
        open_minor=int(r.open_minor),
        held_minor=int(r.held_minor),
        promised_minor=int(r.promised_minor),
        overdue_minor=int(r.overdue_minor),
        oldest_due=r.oldest_due,
        broken_promises=int(r.broken_promises),
        promise_due_today=bool(r.promise_due_today),
        last_contact_at=r.last_contact_at,
        call_back_at=r.call_back_at,
        open_disputes=int(r.open_disputes),
        credit_hold=bool(r.credit_hold),
        bankruptcy=bool(r.bankruptcy),
        in_litigation=bool(r.in_litigation),
        risk_class=r.risk_class,
        phone_task_at=r.phone_task_at,
    )


async def facts(conn, scope: str, value: str, today: date) -> list[CustomerFacts]:
    """`scope`: collector, team, all or customer; `value`: the collector, team or customer id."""
    params = {"today": today, scope: value}
    return [_facts_of(FactsRecord._make(r)) for r in await conn.execute(FACTS[scope], params)]


async def assigned_to(conn, customer_id: str) -> str | None:
    return (await conn.execute(ASSIGNED_TO, {"customer": customer_id})).scalar()


# --- strategies --------------------------------------------------------------------------------
_s, _r = WorklistStrategyRow.__table__, WorklistRuleRow.__table__
STRATEGY = select(_s).where(_s.c.version == bindparam("version"))
ACTIVE_STRATEGY = select(_s).where(_s.c.active.is_(True))
RULES = select(_r).where(_r.c.strategy_version == bindparam("version")).order_by(_r.c.position)


class StrategyRecord(NamedTuple):
    version: int
    display_name: str
    active: bool
    created_at: datetime
    created_by: str


class StrategyRead(NamedTuple):
    row: StrategyRecord
    rules: tuple[Rule, ...]

    def strategy(self) -> Strategy:
        return Strategy(self.row.version, self.rules)


def _rule(row) -> Rule:
    low, high = row.min_value, row.max_value
    return Rule(
        row.code,
        row.label,
        row.fact,
        Decimal(low) if low else None,
        Decimal(high) if high else None,
        row.points,
    )


async def strategy(conn, version: int | None) -> StrategyRead:
    """A stored version, or the active one (None)."""
    stmt, params = (ACTIVE_STRATEGY, {}) if version is None else (STRATEGY, {"version": version})
    row = (await conn.execute(stmt, params)).first()
    if row is None:
        raise missing("worklist strategy", "active" if version is None else str(version))
    record = StrategyRecord._make(row)
    rules = tuple(_rule(r) for r in await conn.execute(RULES, {"version": record.version}))
    return StrategyRead(record, rules)


_CUSTOMER_EXISTS = select(_c.c.id).where(_c.c.id == bindparam("customer"))


async def customer_exists(conn, customer_id: str) -> None:
    if (await conn.execute(_CUSTOMER_EXISTS, {"customer": customer_id})).first() is None:
        raise missing("customer", customer_id)
