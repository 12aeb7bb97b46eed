"""Display reads of the open-items report (docs/reports.md §18): one row per open invoice, read in
keyset pages by invoice id so a million-row export streams from the database to the file without
a server-side cursor (display reads open no transaction) and without holding the rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import NamedTuple

from sqlalchemy import Integer, String, bindparam, func, select

from services.accounts.data.collections_models import AssignmentRow
from services.accounts.data.models import CustomerRow, InvoiceRow
from services.accounts.data.report_reads import scoped, visible

PAGE_ROWS = 5_000
_invoices, _customers, _assignments = (
    InvoiceRow.__table__,
    CustomerRow.__table__,
    AssignmentRow.__table__,
)


class OpenItem(NamedTuple):
    invoice_id: str
    customer_id: str
    customer: str
    collector: str
    team: str
    number: str
    invoice_date: date
    due_date: date
    currency: str
    open_minor: int
    held_minor: int


_OPEN_ITEMS = (
    select(
        _invoices.c.id,
        _invoices.c.customer_id,
        _customers.c.display_name,
        func.coalesce(_assignments.c.collector, ""),
        func.coalesce(_assignments.c.team, ""),
        _invoices.c.external_number,
        _invoices.c.invoice_date,
        _invoices.c.due_date,
        _invoices.c.currency,
        _invoices.c.open_minor,
        _invoices.c.held_minor,
    )
    .join(_customers, _customers.c.id == _invoices.c.customer_id)
    .outerjoin(_assignments, _assignments.c.customer_id == _invoices.c.customer_id)
    .where(
        _invoices.c.open_minor > 0,
        _invoices.c.id > bindparam("after", type_=String),
        visible(_assignments, _invoices.c.customer_id),
    )
    .order_by(_invoices.c.id)
    .limit(bindparam("limit", type_=Integer))
)


async def open_items(db, scope: tuple[str, str]) -> AsyncIterator[OpenItem]:
    """Today's open invoices in the scope, by id: one short statement per page, each on a
    connection of its own, so nothing is held open while the caller writes a page out."""
    after = ""
    while True:
        parameters = {"after": after, "limit": PAGE_ROWS, **scoped(scope)}
        async with db.reading_connection() as conn:
            page = [OpenItem._make(row) for row in await conn.execute(_OPEN_ITEMS, parameters)]
        for item in page:
            yield item
        if len(page) < PAGE_ROWS:
            return
        after = page[-1].invoice_id
