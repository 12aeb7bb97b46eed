"""Queries of the accounts service. Rows in, rows out; a missing row is NotFound here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import NotFound
from common.listing import Page
from services.accounts.data.models import (
    BillingAccountRow,
    CreditNoteRow,
    CustomerRow,
    InvoiceRow,
    PaymentRow,
)


def missing(label: str, row_id: str) -> NotFound:
    return NotFound(f"{label} {row_id} does not exist", metadata={"resource": label})


async def _get(session: AsyncSession, model, row_id: str, label: str, for_update: bool):
    stmt = select(model).where(model.id == row_id)
    if for_update:
        stmt = stmt.with_for_update(of=model)  # lock the row itself, not joined children
    # unique(): rows with joined collections (a customer's contacts) come once per child
    row = (await session.execute(stmt)).unique().scalar_one_or_none()
    if row is None:
        raise missing(label, row_id)
    return row


async def get_customer(
    session: AsyncSession, customer_id: str, for_update: bool = False
) -> CustomerRow:
    return await _get(session, CustomerRow, customer_id, "customer", for_update)


async def get_invoice(
    session: AsyncSession, invoice_id: str, for_update: bool = False
) -> InvoiceRow:
    return await _get(session, InvoiceRow, invoice_id, "invoice", for_update)


async def get_payment(
    session: AsyncSession, payment_id: str, for_update: bool = False
) -> PaymentRow:
    return await _get(session, PaymentRow, payment_id, "payment", for_update)


async def get_credit_note(
    session: AsyncSession, note_id: str, for_update: bool = False
) -> CreditNoteRow:
    return await _get(session, CreditNoteRow, note_id, "credit note", for_update)


async def customer_by_ref(session: AsyncSession, external_ref: str) -> CustomerRow | None:
    stmt = select(CustomerRow).where(CustomerRow.external_ref == external_ref)
    return (await session.execute(stmt)).unique().scalar_one_or_none()


async def invoice_by_number(session: AsyncSession, external_number: str) -> InvoiceRow | None:
    return await session.scalar(
        select(InvoiceRow).where(InvoiceRow.external_number == external_number)
    )


async def billing_account(session: AsyncSession, account_id: str) -> BillingAccountRow | None:
    return await session.get(BillingAccountRow, account_id)


async def billing_account_by_number(
    session: AsyncSession, customer_id: str, number: str
) -> str | None:
    """The id of the customer's billing account with this number, if there is one."""
    return await session.scalar(
        select(BillingAccountRow.id).where(
            BillingAccountRow.customer_id == customer_id, BillingAccountRow.number == number
        )
    )


async def list_customer_rows(session, model, customer_id: str, page: Page):
    stmt = (
        select(model)
        .where(model.customer_id == customer_id)
        .order_by(model.created_at, model.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return list((await session.execute(stmt)).scalars().all())


# The balance statements, built once (bound values: the customer and today).
_invoices = InvoiceRow.__table__
_CUSTOMER_EXISTS = select(CustomerRow.__table__.c.id).where(
    CustomerRow.__table__.c.id == bindparam("customer")
)
_OPEN_BY_CURRENCY = (
    select(
        _invoices.c.currency,
        func.sum(_invoices.c.open_minor),
        func.sum(_invoices.c.held_minor),
        func.sum(
            case((_invoices.c.due_date < bindparam("today"), _invoices.c.open_minor), else_=0)
        ),
    )
    .where(_invoices.c.customer_id == bindparam("customer"), _invoices.c.open_minor > 0)
    .group_by(_invoices.c.currency)
)
_UNALLOCATED_BY_CURRENCY = {
    key: select(table.c.currency, func.sum(table.c.unallocated_minor))
    .where(table.c.customer_id == bindparam("customer"), table.c.unallocated_minor > 0)
    .group_by(table.c.currency)
    for key, table in (("cash", PaymentRow.__table__), ("credits", CreditNoteRow.__table__))
}


async def customer_balances(conn, customer_id: str, today: date) -> dict[str, dict[str, int]]:
    """Per currency: open, held, overdue receivables, unallocated cash and open credits."""
    if (await conn.execute(_CUSTOMER_EXISTS, {"customer": customer_id})).first() is None:
        raise missing("customer", customer_id)
    totals: dict[str, dict[str, int]] = {}

    def slot(currency: str) -> dict[str, int]:
        return totals.setdefault(
            currency, dict.fromkeys(("open", "held", "overdue", "cash", "credits"), 0)
        )

    invoices = await conn.execute(_OPEN_BY_CURRENCY, {"customer": customer_id, "today": today})
    for currency, open_, held, overdue in invoices:
        slot(currency).update(open=int(open_), held=int(held), overdue=int(overdue))
    for key, stmt in _UNALLOCATED_BY_CURRENCY.items():
        for currency, amount in await conn.execute(stmt, {"customer": customer_id}):
            slot(currency)[key] = int(amount)
    return totals
