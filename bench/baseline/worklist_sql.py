"""The worklist's statements run by hand with asyncpg: the active strategy with its rules, read by
hand-written SQL in one statement as the service reads it; then the very statements
services/accounts/data/worklist_rank.py runs for one collector on PostgreSQL (who has open
promises; the strategy's ranking, which returns only the page), compiled once per strategy to
PostgreSQL text and run without a transaction, as the service's display reads are. Like for like:
the database ranks, and the page's items are explained by the same domain function. It reads what
Settle reads: the summary data/customer_facts.py keeps with every write (the bench builds it once
after loading the portfolio, as migration 0008's backfill does)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from common.listing import Page
from services.accounts.data import worklist_rank
from services.accounts.domain.worklist import Rule, Strategy

ACTIVE_STRATEGY = """
SELECT s.version, r.code, r.label, r.fact, r.min_value, r.max_value, r.points
FROM worklist_strategies s LEFT JOIN worklist_rules r ON r.strategy_version = s.version
WHERE s.active IS true ORDER BY s.version, r.position
"""
_DIALECT = PGDialect_asyncpg()


class _Compiled:
    """A Core statement as asyncpg text and the order of its positional values."""

    def __init__(self, stmt: Select):
        self.compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        self.sql = self.compiled.string

    def args(self, values: dict[str, object]) -> list[object]:
        params = self.compiled.construct_params(values)
        return [params[name] for name in self.compiled.positiontup or ()]


@lru_cache(maxsize=8)
def _ranking(rules: tuple[Rule, ...]) -> _Compiled:
    return _Compiled(worklist_rank.statement(rules, "collector", "postgresql"))


PROMISING = _Compiled(worklist_rank.PROMISING_BY_KEY["collector"])


async def strategy(conn: asyncpg.Connection) -> Strategy:
    rows = await conn.fetch(ACTIVE_STRATEGY)
    version = rows[0]["version"]
    rules = tuple(
        Rule(
            r["code"],
            r["label"],
            r["fact"],
            Decimal(r["min_value"]) if r["min_value"] else None,
            Decimal(r["max_value"]) if r["max_value"] else None,
            r["points"],
        )
        for r in rows
        if r["version"] == version and r["code"] is not None
    )
    return Strategy(version, rules)


async def ranked(
    conn: asyncpg.Connection, rules: tuple[Rule, ...], collector: str, now: datetime, page: Page
) -> worklist_rank.RankedPage:
    """One page of the collector's list, ranked by the database."""
    promising = await conn.fetch(PROMISING.sql, *PROMISING.args({"collector": collector}))
    if promising:  # placing promises is the service's Python (service/promised.py)
        raise RuntimeError("the bench portfolio has no open promises")
    values = worklist_rank.parameters({}, now, now.date(), page.offset, page.size)
    ranking = _ranking(rules)
    rows = await conn.fetch(ranking.sql, *ranking.args({"collector": collector, **values}))
    return worklist_rank.ranked_page(rows)
