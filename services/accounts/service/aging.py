"""Aging as of any date, computed in SQL (a portfolio of a million invoices must not be loaded
into Python): per due date, rolled back from the maintained balances (`aging_sql`), then per
bucket. Bucket bounds come from the domain's `AgingBuckets`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import BigInteger, and_, case, cast, func, select

from common.listing import Page
from services.accounts.data import repository as repo
from services.accounts.data.aging_sql import aging_cells, open_items_as_of
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


def _bucket_case(items, buckets: AgingBuckets, as_of: date):
    """days past due = as_of − due_date; a bucket [min, max] holds due dates in
    [as_of − max, as_of − min]. Dates are computed here so SQL stays portable."""
    whens = []
    for code, min_days, max_days in buckets.bounds():
        conditions = []
        if min_days is not None:
            conditions.append(items.c.due_date <= as_of - timedelta(days=min_days))
        if max_days is not None:
            conditions.append(items.c.due_date >= as_of - timedelta(days=max_days))
        whens.append((and_(*conditions) if conditions else True, code))
    return case(*whens[:-1], else_=whens[-1][1])


async def _aggregate(session, query: AgingQuery, group_by_customer: bool, customer_ids=None):
    keys = ("customer_id", "currency") if group_by_customer else ("currency",)
    cells = aging_cells(query.as_of, keys, query.customer_id, customer_ids)
    bucket = _bucket_case(cells, query.buckets, query.as_of).label("bucket")
    key_columns = [cells.c[k] for k in keys]
    stmt = select(
        *key_columns,
        bucket,
        func.sum(cells.c.collectible),
        func.sum(cells.c.held),
        cast(func.sum(cells.c.n), BigInteger),  # a count, not numeric
    ).group_by(*key_columns, bucket)
    by_key: dict[tuple, dict[str, BucketAmounts]] = {}
    for row in await session.execute(stmt):
        *key, code, collectible, held, count = row
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
            page_ids = await _customer_page(session, query.as_of, page)
            customers = await _aggregate(session, query, True, page_ids) if page_ids else []
        return AgingResult(totals, customers)


async def _customer_page(session, as_of: date, page: Page) -> list[str]:
    items = open_items_as_of(as_of, ("customer_id",))
    stmt = (
        select(items.c.customer_id)
        .where(items.c.open_minor > 0)
        .group_by(items.c.customer_id)
        .order_by(items.c.customer_id)
        .offset(page.offset)
        .limit(page.size)
    )
    return list((await session.execute(stmt)).scalars().all())
