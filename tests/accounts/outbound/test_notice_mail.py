"""A dunning notice by e-mail: through a real SMTP server (aiosmtpd on 127.0.0.1) it arrives once
with the right total, its Message-ID is the notice key; the development drop keeps one file per
notice however often it is resent."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from common.reports.delivery import DEFAULT_MAIL_DROP, DeliveryFailed
from services.accounts.domain.dunning import CustomerFlags, InvoicePosition, Notice, decide
from services.accounts.domain.ladder import DEFAULT_LADDER
from services.accounts.outbound.notices import pdf
from services.accounts.outbound.notices.mail import (
    DropNoticeMailer,
    SmtpNoticeMailer,
    compose,
    notice_mailer_from_url,
)
from services.accounts.outbound.notices.render import NoticeTemplates, Recipient

TODAY = date(2026, 6, 30)
SENT_AT = datetime(2026, 6, 30, 6, tzinfo=UTC)
SENDER = "ar@settle.example.com"
CUSTOMER = Recipient("Müller & Co", "de", emails=("ap@mueller.example.com",))


def notice() -> Notice:
    decision = decide(
        customer_id="c1",
        currency="EUR",
        invoices=[
            InvoicePosition(
                "i1", "A-1", date(2026, 6, 1), 100_000, held_minor=30_000, promised_minor=50_000
            ),
        ],
        flags=CustomerFlags(),
        unallocated_cash_minor=0,
        previous=[],
        ladder=DEFAULT_LADDER,
        business_date=TODAY,
    )
    assert isinstance(decision, Notice)
    return decision


def message(attach_letter: bool = False):
    n = notice()
    rendered = NoticeTemplates().render(n, CUSTOMER, TODAY, "Settle AR")
    letter = pdf.letter(rendered, CUSTOMER, "30.06.2026", "Settle AR") if attach_letter else None
    return n, compose(rendered, CUSTOMER, n.key, SENDER, SENT_AT, letter)


class Inbox:
    def __init__(self, refuse: bool = False):
        self.envelopes = []
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 Transaction failed"
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
async def smtp_server():
    servers = []

    async def start(inbox: Inbox) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_one_notice_arrives_once_with_exactly_the_remaining_amount(smtp_server):
    inbox = Inbox()
    port = await smtp_server(inbox)
    n, composed = message()
    await SmtpNoticeMailer("127.0.0.1", port, start_tls=False).send(composed)

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == ["ap@mueller.example.com"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["Message-ID"] == f"<{n.key.text}@settle.example.com>"
    assert received["Subject"] == "Second reminder: 200,00\xa0€ overdue"  # 29 days: REMINDER
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert text.count("Total due now: 200,00\xa0€") == 1
    assert "in dispute 300,00\xa0€, promised 500,00\xa0€" in text
    assert "Müller &amp; Co" in html


async def test_a_letter_travels_as_a_pdf_attachment(smtp_server):
    inbox = Inbox()
    port = await smtp_server(inbox)
    n, composed = message(attach_letter=True)
    await SmtpNoticeMailer("127.0.0.1", port, start_tls=False).send(composed)
    received = email.message_from_bytes(
        inbox.envelopes[0].original_content, policy=email.policy.default
    )
    (attachment,) = received.iter_attachments()
    assert attachment.get_filename() == f"{n.key.text}.pdf"
    assert attachment.get_content().startswith(b"%PDF")


async def test_a_refusing_or_absent_server_is_a_delivery_failure_to_retry(smtp_server):
    port = await smtp_server(Inbox(refuse=True))
    _, composed = message()
    with pytest.raises(DeliveryFailed, match="554"):
        await SmtpNoticeMailer("127.0.0.1", port, start_tls=False).send(composed)
    with pytest.raises(DeliveryFailed):
        await SmtpNoticeMailer("127.0.0.1", 1, start_tls=False, timeout=5).send(composed)


async def test_the_drop_keeps_one_file_per_notice_however_often_it_is_sent(tmp_path):
    mailer = DropNoticeMailer(tmp_path / "mail")
    n, composed = message()
    await mailer.send(composed)
    await mailer.send(composed)
    assert [p.name for p in (tmp_path / "mail").iterdir()] == [f"{n.key.text}.eml"]
    dropped = email.message_from_bytes(
        mailer.path_of(n.key.text).read_bytes(), policy=email.policy.default
    )
    assert "Total due now: 200,00\xa0€" in dropped.get_body(("plain",)).get_content()


def test_a_notice_without_an_address_cannot_be_mailed_and_headers_stay_single_lines():
    n = notice()
    rendered = NoticeTemplates().render(n, CUSTOMER, TODAY, "S")
    with pytest.raises(ValueError):
        compose(rendered, Recipient("X", "en"), n.key, SENDER, SENT_AT)


def test_mail_urls():
    assert isinstance(notice_mailer_from_url("smtp://mail.internal:2525"), SmtpNoticeMailer)
    assert isinstance(notice_mailer_from_url("smtps://u:p%40ss@mail.internal"), SmtpNoticeMailer)
    drop = notice_mailer_from_url("file:")
    assert isinstance(drop, DropNoticeMailer) and drop.path_of("x") == DEFAULT_MAIL_DROP / "x.eml"
    other = notice_mailer_from_url("file:/tmp/m")
    assert isinstance(other, DropNoticeMailer) and other.path_of("x") == Path("/tmp/m/x.eml")
    with pytest.raises(ValueError):
        notice_mailer_from_url("http://mail.internal")
