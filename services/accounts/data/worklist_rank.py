"""The worklist ranked in the database: a strategy's rules compiled into one statement that scores
every customer of a scope, keeps those on the list, orders them and returns one page, with how
many are on the list and how many were done today. Python then explains only that page's items
with the same rules (domain/worklist.py: ranked_item checks the two scores agree), and
tests/accounts/data/test_worklist_rank.py checks, for random facts and strategies on both
databases, that score, list and order are `worklist.rank`'s.

Each fact is a whole-number expression of the book's columns (CustomerFacts' fields,
data/worklist_reads.book) and the bound `today`, `now` and `day_start`; each rule a CASE adding
its points when its fact lies within the rule's whole-number bounds (Rule.bounds_in). The
statement is built once per rules, scope and dialect. The rules' bounds and points and the code's
constants are written into its text (`_inline_constants`: a stored strategy version never
changes), so only the request's values are parameters (scope, today, now, day start, placed
promises, page): PostgreSQL gets the same text, ~7 parameters instead of ~110, on every request
and reuses asyncpg's prepared statement."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    JSON,
    BigInteger,
    BindParameter,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import replacement_traverse

from common.db.types import UtcDateTime
from common.money import MINOR_UNITS
from services.accounts.data import worklist_reads
from services.accounts.data.collections_models import AssignmentRow, CustomerFactsRow
from services.accounts.data.models import CustomerRow
from services.accounts.domain.worklist import RISK_CLASSES, CustomerFacts, Rule, start_of

_today = bindparam("today", type_=Date())
_now = bindparam("now", type_=UtcDateTime())
_day_start = bindparam("day_start", type_=UtcDateTime())  # today, 00:00 UTC
_placed = bindparam("placed", type_=String())  # JSON: customer id -> promised minor units placed

# Currencies by minor-unit exponent, but the usual 2; "" (no currency) counts in units.
_EXPONENTS: dict[int, list[str]] = {
    e: [*([""] if e == 0 else []), *sorted(c for c, x in MINOR_UNITS.items() if x == e)]
    for e in sorted(set(MINOR_UNITS.values()) - {2})
}


class _days_between(FunctionElement):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True


@compiles(_days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


@compiles(_days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class _utc_date(FunctionElement):
    """The UTC calendar day of a timestamp (SQLite keeps them as naive UTC text)."""

    type = Date()
    inherit_cache = True


@compiles(_utc_date, "postgresql")
def _utc_date_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(_utc_date, "sqlite")
def _utc_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _facts(b) -> dict[str, ColumnElement]:
    """domain/worklist.fact_values in SQL, over the book's columns `b`: every fact a whole
    number, the overdue amount in its currency's minor units; days since contact NULL when
    never contacted."""
    return {
        "oldest_overdue_days": case(
            (b.oldest_due.is_not(None), _days_between(_today, b.oldest_due)), else_=0
        ),
        "overdue_amount": b.overdue_minor,
        "broken_promises": b.broken_promises,
        "promise_due_today": b.promise_due_today,
        "call_back_due": _flag(_call_back_due(b)),
        "days_since_contact": _days_between(_today, _utc_date(b.last_contact_at)),
        "open_disputes": b.open_disputes,
        "credit_hold": _flag(b.credit_hold),
        "bankruptcy": _flag(b.bankruptcy),
        "in_litigation": _flag(b.in_litigation),
        "risk_class": case(
            *((b.risk_class == name, rank) for name, rank in RISK_CLASSES.items()), else_=0
        ),
        "dunning_phone_task": _flag(
            and_(
                b.phone_task_at.is_not(None),
                or_(b.last_contact_at.is_(None), b.last_contact_at < b.phone_task_at),
            )
        ),
    }


def _call_back_due(b) -> ColumnElement[bool]:
    return and_(b.call_back_at.is_not(None), b.call_back_at <= _now)


def _exponent(currency) -> ColumnElement[int]:
    """currency_exponent of the row's currency (0 for none, as domain/worklist._major)."""
    return case(
        *(
            (currency.in_([literal(c, String()) for c in codes]), e)
            for e, codes in _EXPONENTS.items()
        ),
        else_=2,
    )


def _whole(n: int) -> ColumnElement[int]:
    return literal(n, BigInteger())


def _within(value, low: ColumnElement | None, high: ColumnElement | None) -> ColumnElement[bool]:
    bounds = [*([] if low is None else [value >= low]), *([] if high is None else [value <= high])]
    return and_(true(), *bounds)


def _amount_bounds(rule: Rule, exponent) -> list[ColumnElement | None]:
    """The rule's bounds on an amount in the row's minor units: chosen by its exponent."""
    per_exponent = {e: rule.bounds_in(e) for e in (*_EXPONENTS, 2)}
    return [
        None
        if per_exponent[2][side] is None
        else case(
            *((exponent == e, _whole(per_exponent[e][side])) for e in _EXPONENTS),
            else_=_whole(per_exponent[2][side]),
        )
        for side in (0, 1)
    ]


def _matches(rule: Rule, facts: FromClause) -> ColumnElement[bool]:
    """Rule.matches in SQL: a fact without a value (never contacted) meets a rule only when the
    rule has no maximum."""
    value = facts.c[f"fact_{rule.fact}"]
    if rule.fact == "overdue_amount":
        return _within(value, *_amount_bounds(rule, facts.c.exponent))
    low, high = (None if b is None else _whole(b) for b in rule.bounds_in(0))
    if rule.max is None:
        return or_(value.is_(None), _within(value, low, high))
    return and_(value.is_not(None), _within(value, low, high))


def _placed_rows(dialect: str) -> FromClause:
    """The `placed` JSON object as rows (key, value)."""
    if dialect == "postgresql":
        return func.json_each_text(cast(_placed, JSON)).table_valued("key", "value", name="placed")
    return func.json_each(_placed).table_valued("key", "value", name="placed")


_FIELDS = CustomerFacts._fields


@lru_cache(maxsize=32)
def statement(rules: tuple[Rule, ...], scope: str, dialect: str) -> Select:
    """The ranking of `rules` over `scope`'s book on `dialect`: one row per item of the page
    (how many on the list, how many done today, CustomerFacts' fields, score), or, when the page
    is empty, one row with the two counts and the rest NULL. Cached (a stored version's rules
    never change): built, and compiled by SQLAlchemy, once per strategy."""
    by_key = worklist_reads.looks_up_by_key(dialect, scope)
    return ranking(worklist_reads.book(scope, by_key).subquery("book"), rules, dialect)


def ranking(book: FromClause, rules: tuple[Rule, ...], dialect: str) -> Select:
    """The ranking over any `book` with CustomerFacts' columns (the tests rank a table of random
    facts with it)."""
    b = book.c
    placed = _placed_rows(dialect)
    promised = func.coalesce(cast(placed.c.value, BigInteger), 0)
    left = b.open_minor - b.held_minor - promised
    used = {r.fact for r in rules}
    # Each customer's facts, computed once: OFFSET 0 keeps PostgreSQL from inlining them into
    # every rule that reads them (the amount's exponent alone is ~25 comparisons).
    facts = (
        select(
            *(promised.label(n) if n == "promised_minor" else b[n] for n in _FIELDS),
            case((left > 0, left), else_=0).label("to_collect_minor"),  # collectible.to_collect
            *(v.label(f"fact_{name}") for name, v in _facts(b).items() if name in used),
            *([_exponent(b.currency).label("exponent")] if "overdue_amount" in used else []),
        )
        .select_from(book.outerjoin(placed, placed.c.key == b.customer_id))
        .offset(0)
        .subquery("facts")
    )
    f = facts.c
    # domain/worklist.absence_reasons: a due call-back lists it; a scheduled one does not; else
    # a contact today (done) or nothing to collect and no promise due today keep it off
    not_done = or_(f.last_contact_at.is_(None), f.last_contact_at < _day_start)
    something = or_(f.to_collect_minor > 0, f.promise_due_today != 0)
    on_list = or_(_call_back_due(f), and_(f.call_back_at.is_(None), not_done, something))
    done = and_(f.call_back_at.is_(None), f.last_contact_at >= _day_start)
    points = [case((_matches(r, facts), literal(r.points, BigInteger())), else_=0) for r in rules]
    scored = select(
        *(f[n] for n in _FIELDS),
        f.to_collect_minor,
        _flag(on_list).label("on_list"),
        _flag(done).label("done"),
        (sum(points[1:], points[0]) if points else _whole(0)).label("score"),
    ).cte("scored")
    s = scored.c
    totals = select(
        func.coalesce(func.sum(s.on_list), 0).label("on_list"),
        func.coalesce(func.sum(s.done), 0).label("done"),
    ).subquery("totals")
    page = (
        select(*(s[n] for n in _FIELDS), s.score, s.to_collect_minor)
        .where(s.on_list == 1)
        .order_by(s.score.desc(), s.to_collect_minor.desc(), s.customer_id)  # worklist.rank's
        .limit(bindparam("size"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    p = page.c
    return _inline_constants(
        select(totals.c.on_list, totals.c.done, *(p[n] for n in _FIELDS), p.score)
        .select_from(totals.outerjoin(page, true()))
        .order_by(p.score.desc(), p.to_collect_minor.desc(), p.customer_id)
    )


def _sql_literal(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no literal for {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def _inline_constants(stmt: Select) -> Select:
    """`stmt` with every anonymous bound value (a rule's bounds and points, currency codes, risk
    classes, zeros: ints and strings fixed when the statement is built) written as a literal;
    the named parameters (bindparam("today"), …) stay parameters."""

    def inline(element):
        if isinstance(element, BindParameter) and element.unique and element.value is not None:
            return literal_column(_sql_literal(element.value), element.type)
        return None

    return replacement_traverse(stmt, {}, inline)


class RankedPage(NamedTuple):
    on_list: int  # customers on the list (every page)
    done_today: int
    items: list[tuple[CustomerFacts, int]]  # the page's facts and the score it was ranked by


def ranked_page(rows) -> RankedPage:
    """The statement's rows (any driver's) as the record."""
    if not rows:  # a scope without assignments: no totals row either
        return RankedPage(0, 0, [])
    items = [
        (CustomerFacts(*r[2:12], bool(r[12]), *r[13:21]), int(r[21]))
        for r in rows
        if r[2] is not None
    ]
    return RankedPage(int(rows[0][0]), int(rows[0][1]), items)


def parameters(
    placed: Mapping[str, int], now: datetime, today: date, offset: int, size: int
) -> dict[str, object]:
    """The statement's values, but the scope's."""
    return {
        "today": today,
        "now": now,
        "day_start": start_of(today),
        "placed": json.dumps(dict(placed)),
        "offset": offset,
        "size": size,
    }


async def page(
    conn,
    rules: tuple[Rule, ...],
    scope: tuple[str, str],
    placed: Mapping[str, int],
    now: datetime,
    today: date,
    offset: int,
    size: int,
) -> RankedPage:
    """`scope`: (collector | team | all, its value); `placed`: what open promises take out of
    each promising customer's amount (service/promised.py places them invoice by invoice)."""
    name, value = scope
    params = {name: value, **parameters(placed, now, today, offset, size)}
    stmt = statement(rules, name, conn.dialect.name)
    return ranked_page((await conn.execute(stmt, params)).all())


# --- who has open promises: their amounts are placed invoice by invoice before the ranking ---
_a, _c, _f = AssignmentRow.__table__, CustomerRow.__table__, CustomerFactsRow.__table__


def _promising(scope: str, by_key: bool) -> Select:
    c = worklist_reads.assigned_row(_c, _c.c.id) if by_key else _c
    f = worklist_reads.assigned_row(_f, _f.c.customer_id) if by_key else _f
    return (
        select(_a.c.customer_id, worklist_reads.currency(c, f))
        .select_from(_a)
        .join(f, true() if by_key else f.c.customer_id == _a.c.customer_id)
        .join(c, true() if by_key else c.c.id == _a.c.customer_id)
        .where(worklist_reads.SCOPES[scope], f.c.promised_minor > 0)
    )


PROMISING = {name: _promising(name, False) for name in worklist_reads.SCOPES}
PROMISING_BY_KEY = {name: _promising(name, True) for name in worklist_reads.BY_KEY}


async def promising(conn, scope: tuple[str, str]) -> list[tuple[str, str]]:
    """(customer id, currency) of the scope's customers with open promises."""
    name, value = scope
    by_key = worklist_reads.looks_up_by_key(conn.dialect.name, name)
    stmt = (PROMISING_BY_KEY if by_key else PROMISING)[name]
    return [(r[0], r[1]) for r in await conn.execute(stmt, {name: value})]
