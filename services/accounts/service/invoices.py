"""Use cases on invoices."""

from __future__ import annotations

from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page, Term
from common.money import sum_money
from services.accounts.data import customer_facts, reads, rows
from services.accounts.data import repository as repo
from services.accounts.data.models import InvoiceLineRow, InvoiceRow
from services.accounts.domain.records import InvoiceData
from services.accounts.service import legal_scope
from services.accounts.service.context import AccountsContext
from services.accounts.service.promised import Promised, promised_on


def _check_lines(data: InvoiceData) -> None:
    if (
        data.lines
        and sum_money((line.amount for line in data.lines), data.amount.currency) != data.amount
    ):
        raise InvalidArgument.of("invoice.amount", "must equal the sum of the lines")
    if data.due_date < data.invoice_date:
        raise InvalidArgument.of("invoice.due_date", "must not be before the invoice date")


def new_invoice_row(data: InvoiceData, now) -> InvoiceRow:
    invoice_id = new_id()
    return InvoiceRow(
        **rows.invoice(invoice_id, data, now),
        lines=[InvoiceLineRow(**line) for line in rows.invoice_lines(invoice_id, data)],
        holds=[],
    )


async def create_invoice(
    ctx: AccountsContext, data: InvoiceData, request: RequestKey
) -> InvoiceRow:
    _check_lines(data)

    async def create(session):
        await repo.get_customer(session, data.customer_id)
        if data.billing_account_id:
            account = await repo.billing_account(session, data.billing_account_id)
            if account is None or account.customer_id != data.customer_id:
                raise FailedPrecondition("the billing account does not belong to this customer")
        if await repo.invoice_by_number(session, data.external_number):
            raise AlreadyExists(f"invoice number {data.external_number!r} exists")
        row = new_invoice_row(data, ctx.clock.now())
        session.add(row)
        await customer_facts.refresh(session, [data.customer_id], ctx.clock.today())
        return row.id, row

    return await run_once(
        ctx.db, ctx.idempotency, "CreateInvoice", request, create, repo.get_invoice
    )


async def get_invoice(ctx: AccountsContext, invoice_id: str) -> tuple[reads.InvoiceRead, int]:
    """The invoice and what open promises take out of its collectible figure."""
    async with ctx.db.reading_connection() as conn:
        read = await reads.invoice(conn, invoice_id)
        await legal_scope.check_visible(conn, read.row.customer_id, "invoice", invoice_id)
        placed = await promised_on(conn, _with_open_promises([read]))
    return read, placed.on(read.row.id)


async def list_invoices(
    ctx: AccountsContext, terms: list[Term], order, page: Page
) -> list[tuple[reads.InvoiceRead, int]]:
    async with ctx.db.reading_connection() as conn:
        page_ = await reads.invoices(conn, terms, order, page, legal_scope.legal_only())
        placed = await promised_on(conn, _with_open_promises(page_))
    return [(r, placed.on(r.row.id)) for r in page_]


def _with_open_promises(read: list[reads.InvoiceRead]) -> list[str]:
    """The customers whose promises could take something out of these invoices (the read says
    which have an open one: a placement query for the others would find nothing)."""
    return [r.row.customer_id for r in read if r.row.customer_has_open_promise]


async def promised(ctx: AccountsContext, customer_ids: list[str]) -> Promised:
    """For replies built from invoices a command just changed (allocations, adjustments)."""
    async with ctx.db.reading_connection() as conn:
        return await promised_on(conn, customer_ids)
