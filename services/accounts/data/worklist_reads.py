"""The worklist's facts: one statement for every customer in scope (a collector's, a team's, or
one customer's), reading each customer's summary (data/customer_facts.py keeps it with every write)
and deriving what depends on the day from its dated rows. Built once per scope at import; every
value a bound parameter."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    FromClause,
    Lateral,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    select,
    true,
)

from services.accounts.data.collections_models import (
    AssignmentRow,
    CustomerFactsAheadRow,
    CustomerFactsRow,
    WorklistRuleRow,
    WorklistStrategyRow,
)
from services.accounts.data.models import CustomerRow
from services.accounts.data.repository import missing
from services.accounts.domain.worklist import CustomerFacts, Rule, Strategy

_a, _c = AssignmentRow.__table__, CustomerRow.__table__
_f, _ahead = CustomerFactsRow.__table__, CustomerFactsAheadRow.__table__
_today = bindparam("today", type_=_ahead.c.day.type)
_zero = 0

SCOPES = {
    "collector": _a.c.collector == bindparam("collector"),
    "team": _a.c.team == bindparam("team"),
    "all": _a.c.customer_id.is_not(None),
    "customer": _a.c.customer_id == bindparam("customer"),
}


def assigned_row(table: FromClause, key) -> Lateral:
    """`table`'s row of the assigned customer, looked up by its key for each assignment: a
    LATERAL subquery the PostgreSQL planner keeps as written (OFFSET 0), so a book of ~500 costs
    ~500 index probes whatever the number of customers, where a plain join hashed the whole
    table (~2× the statement's CPU at 20,000 customers)."""
    return select(table).where(key == _a.c.customer_id).offset(0).lateral(table.name)


def currency(c, f):
    """The customer's currency, else its invoices' (as the summary keeps it), else none."""
    return func.coalesce(func.nullif(c.c.currency_code, ""), func.nullif(f.c.currency, ""), "")


def book(scope: str, by_key: bool) -> Select:
    """CustomerFacts' columns, by name, of every customer in `scope` (unordered): what `facts`
    reads and data/worklist_rank.py ranks. `by_key`: PostgreSQL, and a scope of one collector's
    book or one customer."""
    scope_is = SCOPES[scope]
    c = assigned_row(_c, _c.c.id) if by_key else _c
    f = assigned_row(_f, _f.c.customer_id) if by_key else _f
    # from today on: what is not overdue yet, and whether an open promise falls due today
    ahead = (
        select(
            _ahead.c.customer_id,
            cast(func.sum(_ahead.c.due_minor), BigInteger).label("not_due_minor"),
            func.max(
                case((and_(_ahead.c.day == _today, _ahead.c.open_promises > 0), 1), else_=0)
            ).label("due_today"),
        )
        .where(_ahead.c.customer_id.in_(select(_a.c.customer_id).where(scope_is)))
        .where(_ahead.c.day >= _today)
        .group_by(_ahead.c.customer_id)
        .subquery("ahead")
    )
    return (
        select(  # CustomerFacts' fields, in order (`facts` builds it positionally)
            _a.c.customer_id,
            c.c.display_name,
            _a.c.collector,
            currency(c, f).label("currency"),
            func.coalesce(f.c.open_minor, _zero).label("open_minor"),
            func.coalesce(f.c.held_minor, _zero).label("held_minor"),
            func.coalesce(f.c.promised_minor, _zero).label("promised_minor"),
            (
                func.coalesce(f.c.collectible_minor, _zero)
                - func.coalesce(ahead.c.not_due_minor, _zero)
            ).label("overdue_minor"),
            case((f.c.oldest_due < _today, f.c.oldest_due)).label("oldest_due"),
            func.coalesce(f.c.broken_promises, _zero).label("broken_promises"),
            func.coalesce(ahead.c.due_today, _zero).label("promise_due_today"),
            f.c.last_contact_at,
            f.c.call_back_at,
            func.coalesce(f.c.open_disputes, _zero).label("open_disputes"),
            c.c.credit_hold,
            c.c.bankruptcy,
            c.c.in_litigation,
            c.c.risk_class,
            f.c.phone_task_at,
        )
        .select_from(_a)
        .join(c, true() if by_key else c.c.id == _a.c.customer_id)
        .outerjoin(f, true() if by_key else f.c.customer_id == _a.c.customer_id)
        .outerjoin(ahead, ahead.c.customer_id == _a.c.customer_id)
        .where(scope_is)
    )


BY_KEY = ("collector", "customer")


def looks_up_by_key(dialect: str, scope: str) -> bool:
    return dialect == "postgresql" and scope in BY_KEY


FACTS = {name: book(name, False).order_by(_a.c.customer_id) for name in SCOPES}
FACTS_BY_KEY = {name: book(name, True).order_by(_a.c.customer_id) for name in BY_KEY}
ASSIGNED_TO = select(_a.c.collector).where(_a.c.customer_id == bindparam("customer"))


async def facts(conn, scope: str, value: str, today: date) -> list[CustomerFacts]:
    """`scope`: collector, team, all or customer; `value`: the collector, team or customer id.
    The record is the domain's CustomerFacts, built positionally (a ranking reads ~500 rows; the
    columns are its fields, in order). `promised_minor` is the open promises' full amounts:
    service/worklist.py places them per invoice."""
    params = {"today": today, scope: value}
    by_key = looks_up_by_key(conn.dialect.name, scope)
    return [
        CustomerFacts(*r[:10], bool(r[10]), *r[11:])
        for r in await conn.execute((FACTS_BY_KEY if by_key else FACTS)[scope], params)
    ]


async def assigned_to(conn, customer_id: str) -> str | None:
    return (await conn.execute(ASSIGNED_TO, {"customer": customer_id})).scalar()


# --- strategies --------------------------------------------------------------------------------
_s, _r = WorklistStrategyRow.__table__, WorklistRuleRow.__table__


def _with_rules(which) -> Select:
    """The strategy's row and its rules in order, one row per rule (one without rules: NULLs),
    read in one round trip: every worklist read starts with it."""
    rule = (_r.c.code, _r.c.label, _r.c.fact, _r.c.min_value, _r.c.max_value, _r.c.points)
    return (
        select(_s, *rule)
        .outerjoin(_r, _r.c.strategy_version == _s.c.version)
        .where(which)
        .order_by(_s.c.version, _r.c.position)
    )


STRATEGY = _with_rules(_s.c.version == bindparam("version"))
ACTIVE_STRATEGY = _with_rules(_s.c.active.is_(True))


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
    rows = (await conn.execute(stmt, params)).all()
    if not rows:
        raise missing("worklist strategy", "active" if version is None else str(version))
    record = StrategyRecord._make(rows[0][:5])
    rules = tuple(_rule(r) for r in rows if r.version == record.version and r.code is not None)
    return StrategyRead(record, rules)


_CUSTOMER_EXISTS = select(_c.c.id).where(_c.c.id == bindparam("customer"))


async def customer_exists(conn, customer_id: str) -> None:
    if (await conn.execute(_CUSTOMER_EXISTS, {"customer": customer_id})).first() is None:
        raise missing("customer", customer_id)
