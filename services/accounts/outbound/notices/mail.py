"""Sending a rendered notice by e-mail: SMTP (aiosmtplib) in production, the `var/mail/` drop of
.eml files in development, chosen by the same mail URL as report delivery
(common/reports/delivery.py), whose DeliveryFailed, drop folder and URL forms are reused here.

The notice's idempotency key is the Message-ID and the .eml name, so a retried send is
recognisable by the receiving server and replaces (never doubles) a dropped file.
"""

from __future__ import annotations

import os
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from common.reports.delivery import DEFAULT_MAIL_DROP, DeliveryFailed
from common.settings import PROJECT_ROOT
from services.accounts.domain.dunning import NoticeKey
from services.accounts.outbound.notices.render import Recipient, RenderedNotice


def compose(
    rendered: RenderedNotice,
    recipient: Recipient,
    key: NoticeKey,
    sender: str,
    sent_at: datetime,
    letter_pdf: bytes | None = None,
) -> EmailMessage:
    if not recipient.emails:
        raise ValueError("an e-mailed notice needs at least one address")
    message = EmailMessage()  # its policy refuses CR/LF in headers: no header injection
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(recipient.emails)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = f"<{key.text}@{sender.rpartition('@')[2] or 'settle'}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if letter_pdf is not None:
        message.add_attachment(
            letter_pdf, maintype="application", subtype="pdf", filename=f"{key.text}.pdf"
        )
    return message


class NoticeMailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpNoticeMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,  # None: upgrade if the server offers STARTTLS
        timeout: float = 30.0,
    ):
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password = username, password
        self._use_tls, self._start_tls = use_tls, start_tls

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
            )
        except aiosmtplib.SMTPException as failure:
            raise DeliveryFailed(f"SMTP {self._host}:{self._port}: {failure}") from failure


class DropNoticeMailer:
    """Development: each message becomes `<notice key>.eml`; a resend replaces it."""

    def __init__(self, directory: Path):
        self._directory = directory

    async def send(self, message: EmailMessage) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        target = self.path_of(str(message["Message-ID"]).strip("<>").partition("@")[0])
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(message))
        os.replace(partial, target)  # readers never see half a message

    def path_of(self, key_text: str) -> Path:
        return self._directory / f"{key_text}.eml"


def notice_mailer_from_url(url: str) -> NoticeMailer:
    """The URL forms of `common.reports.delivery.mailer_from_url`: smtp://, smtps://, file:."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        directory = PROJECT_ROOT / unquote(parts.path) if parts.path else DEFAULT_MAIL_DROP
        return DropNoticeMailer(directory)
    if parts.scheme in ("smtp", "smtps") and parts.hostname:
        secure = parts.scheme == "smtps"
        return SmtpNoticeMailer(
            parts.hostname,
            parts.port or (465 if secure else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=secure,
        )
    raise ValueError("a mail URL is smtp://host[:port], smtps://host[:port] or file:<directory>")
