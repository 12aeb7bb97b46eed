"""Payments, credit notes, and applying them to invoices (cash application)."""

from __future__ import annotations

from common.errors import FailedPrecondition
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page
from services.accounts.data import billing_reads, customer_facts, rows
from services.accounts.data import repository as repo
from services.accounts.data.billing_reads import CreditNoteRecord, PaymentRecord
from services.accounts.data.models import CreditNoteRow, InvoiceRow, PaymentRow
from services.accounts.domain import ledger
from services.accounts.domain.records import AllocationRequest, FundsData, SourceKind
from services.accounts.service import legal_scope
from services.accounts.service.context import AccountsContext
from services.accounts.service.ledger_ops import post_to_invoice
from services.accounts.service.promises import keep_paid_promises


async def create_payment(ctx: AccountsContext, data: FundsData, request: RequestKey) -> PaymentRow:
    async def create(session):
        await repo.get_customer(session, data.customer_id)
        now = ctx.clock.now()
        row = PaymentRow(**rows.payment(new_id(), data, now, unallocated_minor=data.amount.minor))
        session.add(row)
        return row.id, row

    return await run_once(
        ctx.db, ctx.idempotency, "CreatePayment", request, create, repo.get_payment
    )


async def create_credit_note(
    ctx: AccountsContext, data: FundsData, request: RequestKey
) -> CreditNoteRow:
    async def create(session):
        await repo.get_customer(session, data.customer_id)
        now = ctx.clock.now()
        row = CreditNoteRow(
            **rows.credit_note(new_id(), data, now, unallocated_minor=data.amount.minor)
        )
        session.add(row)
        return row.id, row

    return await run_once(
        ctx.db, ctx.idempotency, "CreateCreditNote", request, create, repo.get_credit_note
    )


async def list_payments(ctx: AccountsContext, customer_id: str, page: Page) -> list[PaymentRecord]:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await billing_reads.payments(conn, customer_id, page)


async def list_credit_notes(
    ctx: AccountsContext, customer_id: str, page: Page
) -> list[CreditNoteRecord]:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await billing_reads.credit_notes(conn, customer_id, page)


async def _load_source(session, kind: SourceKind, source_id: str):
    if kind is SourceKind.PAYMENT:
        return await repo.get_payment(session, source_id, for_update=True)
    return await repo.get_credit_note(session, source_id, for_update=True)


async def allocate_funds(
    ctx: AccountsContext, req: AllocationRequest, request: RequestKey
) -> tuple[list[InvoiceRow], PaymentRow | CreditNoteRow]:
    async def create(session):
        source = await _load_source(session, req.source_kind, req.source_id)
        total = sum(a.amount.minor for a in req.allocations)
        ledger.check_source_covers(source.unallocated_minor, total)
        applied = req.applied_date or getattr(source, "received_date", None) or source.issue_date
        invoices = []
        now = ctx.clock.now()
        # Lock invoices in id order so two concurrent allocations cannot deadlock.
        for alloc in sorted(req.allocations, key=lambda a: a.invoice_id):
            invoice = await repo.get_invoice(session, alloc.invoice_id, for_update=True)
            if invoice.customer_id != source.customer_id or invoice.currency != source.currency:
                raise FailedPrecondition(
                    f"invoice {invoice.external_number} belongs to another customer or currency",
                    reason="ALLOCATION_MISMATCH",
                )
            ledger.check_allocation(
                invoice.external_number, invoice.open_minor, invoice.held_minor, alloc.amount.minor
            )
            post_to_invoice(
                session, now, invoice, req.source_kind, source.id, alloc.amount.minor, applied
            )
            invoices.append(invoice)
        source.unallocated_minor -= total
        await keep_paid_promises(session, [i.id for i in invoices], now)
        await customer_facts.refresh(session, [source.customer_id], ctx.clock.today())
        return source.id, (invoices, source)

    async def replay(session, source_id):
        source = await _load_source(session, req.source_kind, source_id)
        invoices = [await repo.get_invoice(session, a.invoice_id) for a in req.allocations]
        return invoices, source

    return await run_once(ctx.db, ctx.idempotency, "AllocateFunds", request, create, replay)
