"""The worklist's statements run by hand with asyncpg: the active strategy and its rules read with
hand-written SQL, then the very statements services/accounts/data/worklist_rank.py runs for one
collector on PostgreSQL (who has open promises; the strategy's ranking, which returns only the
page), compiled once per strategy to PostgreSQL text and run without a transaction, as the
service's display reads are. Like for like: the database ranks, and the page's items are
explained by the same domain function. It reads what Settle reads: the summary
data/customer_facts.py keeps with every write (the bench builds it once after loading the
portfolio, as migration 0008's backfill does)."""

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

ACTIVE_STRATEGY = "SELECT version FROM worklist_strategies WHERE active IS true"
RULES = (
    "SELECT code, label, fact, min_value, max_value, points FROM worklist_rules "
    "WHERE strategy_version = $1 ORDER BY position"
)
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
    version = await conn.fetchval(ACTIVE_STRATEGY)
    rules = tuple(
        Rule(
            r["code"],
            r["label"],
            r["fact"],
            Decimal(r["min_value"]) if r["min_value"] else None,
            Decimal(r["max_value"]) if r["max_value"] else None,
            r["points"],
        )
        for r in await conn.fetch(RULES, version)
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
