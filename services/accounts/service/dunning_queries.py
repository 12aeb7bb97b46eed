"""Reads of dunning: a customer's notices, a notice's document (the PDF letter or the e-mail as
sent), a statement of account. A Legal user sees only accounts handed over to Legal
(service/legal_scope.py)."""

from __future__ import annotations

import io
from datetime import date

from common.errors import InvalidArgument
from common.listing import Page
from services.accounts.data import dunning_batch, dunning_reads
from services.accounts.data.dunning_reads import NoticeRead
from services.accounts.domain.ladder import Channel
from services.accounts.outbound.notices import statement as statements
from services.accounts.outbound.notices.mail import compose
from services.accounts.service.context import AccountsContext
from services.accounts.service.dunning_run import positions
from services.accounts.service.legal_scope import check_visible
from services.accounts.service.notice_delivery import (
    NoticeDelivery,
    letter_pdf,
    notice_of,
    recipient_of,
    render,
)
from services.accounts.service.promised import promised_on


async def list_notices(ctx: AccountsContext, customer_id: str, page: Page) -> list[NoticeRead]:
    async with ctx.db.reading_connection() as conn:
        await dunning_reads.recipient(conn, customer_id)  # NOT_FOUND for an unknown customer
        await check_visible(conn, customer_id)
        return await dunning_reads.notices(conn, customer_id, page.offset, page.size)


async def notice_document(
    ctx: AccountsContext, delivery: NoticeDelivery, notice_id: str
) -> tuple[str, str, bytes]:
    """(content type, file name, bytes): a letter's PDF; an e-mail notice as its message."""
    async with ctx.db.reading_connection() as conn:
        read = await dunning_reads.notice(conn, notice_id)
        await check_visible(conn, read.notice.customer_id, "notice", notice_id)
        recipient = recipient_of(await dunning_reads.recipient(conn, read.notice.customer_id))
    name = read.notice.key
    if read.notice.channel == Channel.EMAIL.value and recipient.emails:
        sent = read.notice.sent_at or read.notice.created_at
        message = compose(render(delivery, read, recipient), recipient, notice_of(read).key,
                          delivery.sender, sent)  # fmt: skip
        return "message/rfc822", f"{name}.eml", bytes(message)
    return "application/pdf", f"{name}.pdf", letter_pdf(delivery, read, recipient)


async def statement(
    ctx: AccountsContext, customer_id: str, as_of: date | None, currency: str, fmt: str
) -> tuple[str, str, bytes]:
    """Each open invoice issued by `as_of` with open / in dispute / promised / to collect, on the
    dunning arithmetic (the amounts are today's; days past due count to `as_of`)."""
    day = as_of or ctx.clock.today()
    async with ctx.db.reading_connection() as conn:
        who = await dunning_reads.recipient(conn, customer_id)
        await check_visible(conn, customer_id)
        books = await dunning_batch.books(conn, [customer_id])
        promised = await promised_on(conn, [customer_id])
    currency = currency or who.currency_code
    if not currency:
        raise InvalidArgument.of("currency_code", "the customer has no default currency")
    owed = positions(books, promised).get((customer_id, currency), [])
    issued = {i.id for i in books.invoices if i.invoice_date <= day}
    built = statements.build(
        customer_id, currency, day, [p for p in owed if p.invoice_id in issued]
    )
    name = f"statement-{customer_id}-{currency}-{day:%Y%m%d}"
    if fmt == "CSV":
        out = io.BytesIO()
        await statements.write_statement_csv(built, out)
        return "text/csv", f"{name}.csv", out.getvalue()
    return "application/pdf", f"{name}.pdf", statements.statement_pdf(built, recipient_of(who))
