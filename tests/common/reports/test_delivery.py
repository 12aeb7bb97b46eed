"""E-mail delivery of a report link: through a real SMTP server (aiosmtpd on 127.0.0.1) and into
the development drop directory."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from common.reports.delivery import (
    DEFAULT_MAIL_DROP,
    DeliveryFailed,
    MailDropMailer,
    ReportNotice,
    SmtpMailer,
    compose,
    mailer_from_url,
)
from common.reports.schedules import DateRange
from common.settings import PROJECT_ROOT

LINK = "https://settle.example.com/v1/reports/runs/run-42/artefact"
SENDER = "reports@settle.example.com"


def notice(**overrides) -> ReportNotice:
    values = {
        "delivery_id": "sched-7.2026-06-01",
        "recipients": ("lead@example.com", "collector@example.com"),
        "report_title": "Aging by collector",
        "period": DateRange(date(2026, 5, 25), date(2026, 5, 31)),
        "link": LINK,
        "expires_at": datetime(2026, 6, 15, 4, tzinfo=UTC),
        "sent_at": datetime(2026, 6, 1, 4, 0, 7, tzinfo=UTC),
    } | overrides
    return ReportNotice(**values)


class Inbox:
    """An aiosmtpd handler that keeps every accepted envelope, or refuses them all."""

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


def _parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


async def test_smtp_delivers_the_link_once_and_not_the_data(smtp_server):
    inbox = Inbox()
    port = await smtp_server(inbox)
    await SmtpMailer("127.0.0.1", port, SENDER, start_tls=False).deliver(notice())

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["lead@example.com", "collector@example.com"]
    message = _parsed(envelope.original_content)
    assert message["Subject"] == "Aging by collector: 2026-05-25 to 2026-05-31"
    assert message["Message-ID"] == "<sched-7.2026-06-01@settle.example.com>"
    assert not message.is_multipart()  # no attachment: the data stays behind the link
    body = message.get_content()
    assert body.count(LINK) == 1 and "2026-06-15T04:00:00+00:00" in body


async def test_a_refusing_or_absent_server_is_a_delivery_failure(smtp_server):
    port = await smtp_server(Inbox(refuse=True))
    with pytest.raises(DeliveryFailed, match="554"):
        await SmtpMailer("127.0.0.1", port, SENDER, start_tls=False).deliver(notice())
    with pytest.raises(DeliveryFailed):  # nothing listens on port 1
        await SmtpMailer("127.0.0.1", 1, SENDER, start_tls=False, timeout=5).deliver(notice())


async def test_the_drop_directory_keeps_one_eml_per_delivery(tmp_path):
    mailer = MailDropMailer(tmp_path / "mail", SENDER)
    await mailer.deliver(notice())
    await mailer.deliver(notice())  # a retried delivery replaces, never doubles
    assert [p.name for p in (tmp_path / "mail").iterdir()] == ["sched-7.2026-06-01.eml"]
    message = _parsed(mailer.path_of("sched-7.2026-06-01").read_bytes())
    assert message["To"] == "lead@example.com, collector@example.com"
    assert LINK in message.get_content()


def test_a_one_day_period_is_named_once_and_header_injection_is_refused():
    one_day = notice(period=DateRange(date(2026, 5, 31), date(2026, 5, 31)))
    assert compose(one_day, SENDER)["Subject"] == "Aging by collector: 2026-05-31"
    with pytest.raises(ValueError):
        compose(notice(report_title="Aging\r\nBcc: all@example.com"), SENDER)


@pytest.mark.parametrize(
    "overrides",
    [
        {"delivery_id": "../etc/passwd"},
        {"delivery_id": ""},
        {"recipients": ()},
        {"link": "javascript:alert(1)"},
    ],
)
def test_invalid_notices_are_refused(overrides):
    with pytest.raises(ValueError):
        notice(**overrides)


def test_mailer_from_url():
    assert isinstance(mailer_from_url("smtp://mail.internal:2525", SENDER), SmtpMailer)
    assert isinstance(mailer_from_url("smtps://u:p%40ss@mail.internal", SENDER), SmtpMailer)
    drop = mailer_from_url("file:", SENDER)
    assert isinstance(drop, MailDropMailer) and drop.path_of("x") == DEFAULT_MAIL_DROP / "x.eml"
    assert mailer_from_url("file:var/other", SENDER).path_of("x") == (
        PROJECT_ROOT / "var" / "other" / "x.eml"
    )
    assert mailer_from_url("file:/tmp/m", SENDER).path_of("x") == Path("/tmp/m/x.eml")
    with pytest.raises(ValueError):
        mailer_from_url("http://mail.internal", SENDER)
