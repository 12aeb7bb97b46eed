"""Turns parsed list filters and orderings (common.listing) into SQLAlchemy clauses."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, SQLColumnExpression

from common.listing import Page, Term

_OPS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def apply_filter(
    stmt: Select, terms: list[Term], columns: Mapping[str, SQLColumnExpression[Any]]
) -> Select:
    for term in terms:
        stmt = stmt.where(_OPS[term.op](columns[term.field], term.value))
    return stmt


def apply_order_and_page(
    stmt: Select,
    order: tuple[str, bool],
    columns: Mapping[str, SQLColumnExpression[Any]],
    tiebreak: SQLColumnExpression[Any],
    page: Page,
) -> Select:
    column = columns[order[0]]
    ordered = column.desc() if order[1] else column.asc()
    tie = tiebreak.desc() if order[1] else tiebreak.asc()
    return stmt.order_by(ordered, tie).offset(page.offset).limit(page.size)
