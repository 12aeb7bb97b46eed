"""Aging as of any date, computed in SQL (a portfolio of a million invoices must not be loaded
into Python): per due date, rolled back from the maintained balances, then per bucket
(data/aging_sql.py). Bucket bounds come from the domain's `AgingBuckets`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from common.listing import Page
from services.accounts.data import aging_sql, dunning_reads
from services.accounts.data.worklist_reads import customer_exists
from services.accounts.domain.aging import AgingBuckets, AgingRow, BucketAmounts
from services.accounts.service import legal_scope
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


async def _aggregate(
    conn: AsyncConnection,
    query: AgingQuery,
    per_customer: bool,
    customer_ids: list[str] | None = None,
) -> list[AgingRow]:
    sums = await aging_sql.bucket_sums(
        conn, query.as_of, query.buckets, per_customer, query.customer_id, customer_ids
    )
    by_key: dict[tuple[str | None, str], dict[str, BucketAmounts]] = {}
    for s in sums:
        customer = s.customer_id if per_customer else query.customer_id
        by_key.setdefault((customer, s.currency), {})[s.bucket] = BucketAmounts(
            s.bucket, s.collectible_minor, s.held_minor, s.item_count
        )
    codes = query.buckets.codes
    return [
        AgingRow(customer, currency, tuple(amounts.get(c, BucketAmounts(c)) for c in codes))
        # one call's customer keys are all None or all ids, so the keys compare
        for (customer, currency), amounts in sorted(by_key.items(), key=lambda item: item[0])
    ]


async def aging_report(ctx: AccountsContext, query: AgingQuery, page: Page) -> AgingResult:
    """A display read: statements on a reading connection, no transaction."""
    async with ctx.db.reading_connection() as conn:
        if query.customer_id:
            await customer_exists(conn, query.customer_id)
            await legal_scope.check_visible(conn, query.customer_id)
        # a Legal-only caller's totals and pages cover the accounts handed over to Legal
        scope = None
        if legal_scope.legal_only() and not query.customer_id:
            scope = await dunning_reads.customers_with_legal_case(conn)
        totals = await _aggregate(conn, query, False, scope)
        customers: list[AgingRow] = []
        if query.by_customer and not query.customer_id:
            page_ids = await aging_sql.customer_page(conn, query.as_of, page, scope)
            customers = await _aggregate(conn, query, True, page_ids) if page_ids else []
        return AgingResult(totals, customers)
