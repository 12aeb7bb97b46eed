"""A customer's billing accounts, payments and credit notes, page by page (ListBillingAccounts,
ListPayments, ListCreditNotes): prebuilt Core statements, oldest first, one record type each."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from common.listing import Page
from services.accounts.data.models import BillingAccountRow, CreditNoteRow, PaymentRow
from services.accounts.data.worklist_reads import customer_exists


class BillingAccountRecord(NamedTuple):
    id: str
    customer_id: str
    display_name: str
    number: str
    currency_code: str
    created_at: datetime


class PaymentRecord(NamedTuple):
    id: str
    customer_id: str
    currency: str
    amount_minor: int
    unallocated_minor: int
    received_date: date
    reference: str
    created_at: datetime


class CreditNoteRecord(NamedTuple):
    id: str
    customer_id: str
    currency: str
    amount_minor: int
    unallocated_minor: int
    issue_date: date
    external_number: str
    reason: str
    created_at: datetime


def _customer_page(model, record: type[NamedTuple]) -> Select:
    """The record's columns of one customer's rows, in creation order, one page."""
    table = model.__table__
    return (
        select(*(table.c[name] for name in record._fields))
        .where(table.c.customer_id == bindparam("customer"))
        .order_by(table.c.created_at, table.c.id)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


_BILLING_ACCOUNTS = _customer_page(BillingAccountRow, BillingAccountRecord)
_PAYMENTS = _customer_page(PaymentRow, PaymentRecord)
_CREDIT_NOTES = _customer_page(CreditNoteRow, CreditNoteRecord)


async def _page(conn: AsyncConnection, stmt: Select, customer_id: str, page: Page) -> list:
    """NOT_FOUND for a missing customer (an empty page would hide the typo)."""
    await customer_exists(conn, customer_id)
    params = {"customer": customer_id, "offset": page.offset, "limit": page.size}
    return list(await conn.execute(stmt, params))


async def billing_accounts(
    conn: AsyncConnection, customer_id: str, page: Page
) -> list[BillingAccountRecord]:
    rows = await _page(conn, _BILLING_ACCOUNTS, customer_id, page)
    return [BillingAccountRecord._make(r) for r in rows]


async def payments(conn: AsyncConnection, customer_id: str, page: Page) -> list[PaymentRecord]:
    return [PaymentRecord._make(r) for r in await _page(conn, _PAYMENTS, customer_id, page)]


async def credit_notes(
    conn: AsyncConnection, customer_id: str, page: Page
) -> list[CreditNoteRecord]:
    rows = await _page(conn, _CREDIT_NOTES, customer_id, page)
    return [CreditNoteRecord._make(r) for r in rows]
