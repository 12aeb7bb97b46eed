"""Reads of dunning: a customer's notices, a notice's document (the PDF letter or the e-mail as
sent), a statement of account. A Legal user sees only accounts handed over to Legal
(service/legal_scope.py)."""

from __future__ import annotations

import io
from datetime import date

from common.errors import InvalidArgument
from common.listing import Page
from services.accounts.data import dunning_reads
from services.accounts.data.dunning_reads import NoticeRead
from services.accounts.domain.dunning import InvoicePosition
from services.accounts.domain.ladder import Channel
from services.accounts.outbound.notices import statement as statements
from services.accounts.outbound.notices.mail import compose
from services.accounts.service.context import AccountsContext
from services.accounts.service.legal_scope import check_visible
from services.accounts.service.notice_delivery import (
    NoticeDelivery,
    letter_pdf,
    notice_of,
    recipient_of,
    render,
)
from services.accounts.service.promised import NOTHING_PROMISED, promised_on


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
    """Each invoice open at the end of `as_of` (default today) with open / in dispute / promised
    / to collect as they stood then, on the dunning arithmetic. Promises are today's
    commitments: they cover a statement of today or later, not one of a past date."""
    today = ctx.clock.today()
    day = as_of or today
    async with ctx.db.reading_connection() as conn:
        who = await dunning_reads.recipient(conn, customer_id)
        await check_visible(conn, customer_id)
        items = await dunning_reads.statement_items(conn, customer_id, day)
        promised = await promised_on(conn, [customer_id]) if day >= today else NOTHING_PROMISED
    currency = currency or who.currency_code
    if not currency:
        raise InvalidArgument.of("currency_code", "the customer has no default currency")
    owed = [
        InvoicePosition(i.id, i.number, i.due_date, i.open_minor, i.held_minor,
                        promised_minor=promised.on(i.id))
        for i in items
        if i.currency == currency
    ]  # fmt: skip
    built = statements.build(customer_id, currency, day, owed)
    name = f"statement-{customer_id}-{currency}-{day:%Y%m%d}"
    if fmt == "CSV":
        out = io.BytesIO()
        await statements.write_statement_csv(built, out)
        return "text/csv", f"{name}.csv", out.getvalue()
    return "application/pdf", f"{name}.pdf", statements.statement_pdf(built, recipient_of(who))
