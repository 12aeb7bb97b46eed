"""Aging as of any date, computed in SQL (a portfolio of a million invoices must not be loaded
into Python): per due date, rolled back from the maintained balances, then per bucket
(data/aging_sql.py). Bucket bounds come from the domain's `AgingBuckets`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from common.listing import Page
from services.accounts.data import aging_sql
from services.accounts.data import repository as repo
from services.accounts.domain.aging import AgingBuckets, AgingRow, BucketAmounts
from services.accounts.service.context import AccountsContext


@dataclass(frozen=True)
class AgingQuery:
    as_of: date
    buckets: AgingBuckets
    customer_id: str | None = None
    by_customer: bool = False


@dataclass(frozen=True)
class AgingResult:
    totals: list[AgingRow]
    customers: list[AgingRow]


async def _aggregate(session, query: AgingQuery, group_by_customer: bool, customer_ids=None):
    keys = ("customer_id", "currency") if group_by_customer else ("currency",)
    sums = await aging_sql.bucket_sums(
        session, query.as_of, query.buckets, keys, query.customer_id, customer_ids
    )
    by_key: dict[tuple, dict[str, BucketAmounts]] = {}
    for *key, code, collectible, held, count in sums:
        by_key.setdefault(tuple(key), {})[code] = BucketAmounts(
            code, int(collectible), int(held), count
        )
    rows = []
    for key in sorted(by_key):
        customer = key[0] if group_by_customer else query.customer_id
        amounts = tuple(by_key[key].get(c, BucketAmounts(c)) for c in query.buckets.codes)
        rows.append(AgingRow(customer, key[-1], amounts))
    return rows


async def aging_report(ctx: AccountsContext, query: AgingQuery, page: Page) -> AgingResult:
    async with ctx.db.transaction() as session:
        if query.customer_id:
            await repo.get_customer(session, query.customer_id)
        totals = await _aggregate(session, query, group_by_customer=False)
        customers: list[AgingRow] = []
        if query.by_customer and not query.customer_id:
            page_ids = await aging_sql.customer_page(session, query.as_of, page)
            customers = await _aggregate(session, query, True, page_ids) if page_ids else []
        return AgingResult(totals, customers)
