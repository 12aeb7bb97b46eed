"""What moved an invoice's held and open amounts, one row at a time (ListHoldMovements,
ListLedgerPostings): display reads of an invoice the caller may read (Legal: only with an
active legal case, service/legal_scope.py), one statement per page."""

from __future__ import annotations

from common.listing import Page
from services.accounts.data import ledger_reads
from services.accounts.data.ledger_reads import HoldMovementRecord, PostingRecord
from services.accounts.service import legal_scope
from services.accounts.service.context import AccountsContext


async def _check_readable(conn, invoice_id: str) -> None:
    customer_id = await ledger_reads.invoice_customer(conn, invoice_id)
    await legal_scope.check_visible(conn, customer_id, "invoice", invoice_id)


async def hold_movements(
    ctx: AccountsContext, invoice_id: str, page: Page
) -> list[HoldMovementRecord]:
    async with ctx.db.reading_connection() as conn:
        await _check_readable(conn, invoice_id)
        return await ledger_reads.hold_movements(conn, invoice_id, page.offset, page.size)


async def postings(ctx: AccountsContext, invoice_id: str, page: Page) -> list[PostingRecord]:
    async with ctx.db.reading_connection() as conn:
        await _check_readable(conn, invoice_id)
        return await ledger_reads.postings(conn, invoice_id, page.offset, page.size)
