"""Delivery of a finished report by e-mail, as a LINK to the artefact (kept for a configured
number of days, downloaded through the gateway with the reader's own sign-in), never the data
itself: mailboxes are forwarded, archived and size-capped, the gateway checks who may read.

Two mailers with one method: SMTP (aiosmtplib) for real mail, and a drop directory of .eml files
(`var/mail/` by default) for development, which needs nothing installed. Each notice has a
delivery id, used as the Message-ID and the .eml name, so a retried delivery is recognisable.
Webhook recipients get the link as signed JSON (common/reports/webhook.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from common.reports.schedules import DateRange
from common.settings import PROJECT_ROOT

_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)  # safe as a file name
DEFAULT_MAIL_DROP = PROJECT_ROOT / "var" / "mail"


class DeliveryFailed(Exception):
    """The mail server could not be reached or refused the message; the run retries later."""


@dataclass(frozen=True)
class ReportNotice:
    delivery_id: str  # one per schedule run and period
    recipients: tuple[str, ...]
    report_title: str
    period: DateRange
    link: str  # the artefact's download address through the gateway
    expires_at: datetime  # when the artefact is deleted
    sent_at: datetime

    def __post_init__(self) -> None:
        if not _DELIVERY_ID.fullmatch(self.delivery_id):
            raise ValueError("a delivery id is 1-128 letters, digits, '.', '_' or '-'")
        if not self.recipients:
            raise ValueError("a notice needs at least one recipient")
        if urlsplit(self.link).scheme not in ("https", "http"):
            raise ValueError("the link must be an http(s) address")


def compose(notice: ReportNotice, sender: str) -> EmailMessage:
    """The message: a subject naming report and period, and a body with the link only."""
    message = EmailMessage()  # its policy refuses CR/LF in headers: no header injection
    period = notice.period.first.isoformat()
    if notice.period.last != notice.period.first:
        period += f" to {notice.period.last.isoformat()}"
    message["Subject"] = f"{notice.report_title}: {period}"
    message["From"] = sender
    message["To"] = ", ".join(notice.recipients)
    message["Date"] = format_datetime(notice.sent_at)
    message["Message-ID"] = f"<{notice.delivery_id}@{sender.rpartition('@')[2] or 'settle'}>"
    message.set_content(
        f"The report {notice.report_title} for {period} is ready:\n\n"
        f"{notice.link}\n\n"
        "Sign in to download it. The file is not attached to this message; the link works "
        f"until {notice.expires_at.isoformat()}.\n"
    )
    return message


class Mailer(Protocol):
    async def deliver(self, notice: ReportNotice) -> None: ...


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,  # None: upgrade if the server offers STARTTLS
        timeout: float = 30.0,
    ):
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._use_tls, self._start_tls = use_tls, start_tls
        self._timeout = timeout

    async def deliver(self, notice: ReportNotice) -> None:
        try:
            await aiosmtplib.send(
                compose(notice, self._sender),
                sender=self._sender,
                recipients=list(notice.recipients),
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


class MailDropMailer:
    """Development: each notice becomes `<delivery id>.eml` in a directory; a repeat replaces it."""

    def __init__(self, directory: Path, sender: str):
        self._directory, self._sender = directory, sender

    async def deliver(self, notice: ReportNotice) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        target = self._directory / f"{notice.delivery_id}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(compose(notice, self._sender)))
        os.replace(partial, target)  # readers never see half a message

    def path_of(self, delivery_id: str) -> Path:
        return self._directory / f"{delivery_id}.eml"


def mailer_from_url(url: str, sender: str) -> Mailer:
    """`smtp://[user:password@]host[:port]` (STARTTLS when offered), `smtps://...` (TLS from the
    start), or `file:<directory>` (relative to the project root) for the development drop."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        directory = PROJECT_ROOT / unquote(parts.path) if parts.path else DEFAULT_MAIL_DROP
        return MailDropMailer(directory, sender)
    if parts.scheme in ("smtp", "smtps") and parts.hostname:
        secure = parts.scheme == "smtps"
        return SmtpMailer(
            parts.hostname,
            parts.port or (465 if secure else 25),
            sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=secure,
        )
    raise ValueError("a mail URL is smtp://host[:port], smtps://host[:port] or file:<directory>")
