"""Delivering queued notices: render each from what its notice recorded (the lines and level as
they were when decided), send it by e-mail (a letter goes as its PDF attached), and record SENT or
the error with the next attempt. The notice key is the Message-ID and the drop file's name, so a
send retried after a crash is recognisable, never a second notice."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import structlog

from common.reports.delivery import DeliveryFailed
from services.accounts.data import dunning_reads as reads
from services.accounts.data import notice_queue as queue
from services.accounts.data.dunning_reads import NoticeRead, RecipientRecord
from services.accounts.domain.dunning import Notice, NoticeKey, NoticeLine
from services.accounts.domain.ladder import Channel, Level
from services.accounts.outbound.notices import pdf
from services.accounts.outbound.notices.formatting import day, locale_for
from services.accounts.outbound.notices.mail import NoticeMailer, compose
from services.accounts.outbound.notices.render import NoticeTemplates, Recipient, RenderedNotice
from services.accounts.service.context import AccountsContext

log = structlog.get_logger("settle.accounts.notices")


@dataclass(frozen=True)
class NoticeDelivery:
    """Built once by the composition root (AccountsConfig: mail URL, sender, attempts)."""

    mailer: NoticeMailer
    templates: NoticeTemplates
    sender: str
    sender_name: str
    max_attempts: int = 8
    base_backoff_s: float = 30.0
    max_backoff_s: float = 3600.0
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50


def notice_of(read: NoticeRead) -> Notice:
    """The domain notice as it was recorded (lines, level, key): what is sent and downloaded."""
    n = read.notice
    level = Level(n.level, n.level_code, 0, Channel(n.channel), n.template_id, 0)
    return Notice(
        key=NoticeKey(n.customer_id, n.currency, n.level, n.business_date),
        ladder_id=n.ladder_id,
        ladder_version=n.ladder_version,
        level=level,
        currency=n.currency,
        lines=tuple(
            NoticeLine(
                invoice_id=line.invoice_id,
                number=line.number,
                due_date=line.due_date,
                days_past_due=(n.business_date - line.due_date).days,
                open_minor=line.open_minor,
                in_dispute_minor=line.held_minor,
                promised_minor=line.promised_minor,
                in_legal_minor=line.in_legal_minor,
                claimed_paid_minor=line.claimed_paid_minor,
                due_now_minor=line.due_now_minor,
            )
            for line in read.lines
        ),
        unallocated_cash_minor=n.unallocated_cash_minor,
    )


def recipient_of(record: RecipientRecord) -> Recipient:
    emails = tuple(email for _, email, _ in record.contacts if email)
    first = next(
        (c for c in record.contacts if c[1]), record.contacts[0] if record.contacts else None
    )
    return Recipient(
        customer_name=record.display_name,
        language=first[2] if first else "",
        emails=emails,
        contact_name=first[0] if first else "",
    )


def render(delivery: NoticeDelivery, read: NoticeRead, recipient: Recipient) -> RenderedNotice:
    return delivery.templates.render(
        notice_of(read), recipient, read.notice.business_date, delivery.sender_name
    )


def letter_pdf(delivery: NoticeDelivery, read: NoticeRead, recipient: Recipient) -> bytes:
    rendered = render(delivery, read, recipient)
    dated = day(read.notice.business_date, locale_for(recipient.language))
    return pdf.letter(rendered, recipient, dated, delivery.sender_name)


async def deliver_due(ctx: AccountsContext, delivery: NoticeDelivery) -> int:
    """One pass: the due notices leased and sent one by one; how many were attempted."""
    async with ctx.db.transaction() as session:
        ids = await queue.lease(session, ctx.clock.now(), delivery.lease, delivery.batch)
    for notice_id in ids:
        await _deliver(ctx, delivery, notice_id)
    return len(ids)


async def _deliver(ctx: AccountsContext, delivery: NoticeDelivery, notice_id: str) -> None:
    async with ctx.db.reading_connection() as conn:
        read = await reads.notice(conn, notice_id)
        recipient = recipient_of(await reads.recipient(conn, read.notice.customer_id))
    error = ""
    try:
        if not recipient.emails:
            raise DeliveryFailed("the customer has no contact with an e-mail address")
        rendered = render(delivery, read, recipient)
        attachment = (
            letter_pdf(delivery, read, recipient)
            if read.notice.channel == Channel.LETTER.value
            else None
        )
        message = compose(rendered, recipient, notice_of(read).key, delivery.sender,
                          ctx.clock.now(), attachment)  # fmt: skip
        await delivery.mailer.send(message)
    except (DeliveryFailed, OSError) as failure:
        error = str(failure) or type(failure).__name__
        log.warning("notice delivery failed", notice=notice_id, attempt=read.notice.attempts,
                    error=error)  # fmt: skip
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        if not error:
            await queue.sent(session, notice_id, now)
            return
        attempts = read.notice.attempts
        retry_at = None
        if attempts < delivery.max_attempts:
            ceiling = min(delivery.max_backoff_s, delivery.base_backoff_s * 2 ** (attempts - 1))
            retry_at = now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))
        await queue.failed(session, notice_id, error, retry_at)


async def next_pass_in(ctx: AccountsContext, max_sleep_s: float) -> float:
    async with ctx.db.transaction() as session:
        due = await queue.next_due(session)
    if due is None:
        return max_sleep_s
    return max(0.0, min(max_sleep_s, (due - ctx.clock.now()).total_seconds()))
