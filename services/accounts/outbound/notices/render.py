"""Rendering a dunning notice: one template per ladder level (`templates/dunning/<template id>
.jinja`) with three blocks (subject, intro, closing), laid out as an HTML e-mail (autoescaped),
a plain-text e-mail, a PDF letter or a phone task's text.

Templates are data that administrators edit, so they run in Jinja2's SandboxedEnvironment: no
attribute of Python internals, no file or module access. Every figure reaches a template already
formatted for the customer's locale, so templates print strings and compute nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from services.accounts.domain.dunning import Notice
from services.accounts.outbound.notices.formatting import day, locale_for, money

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # "_email" and paths are not templates


@dataclass(frozen=True)
class Recipient:
    customer_name: str
    language: str  # the contact's language tag, e.g. "de" or "fr-CH"
    emails: tuple[str, ...] = ()
    postal_address: tuple[str, ...] = ()  # lines of the letter's address window
    contact_name: str = ""


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    intro: str
    closing: str
    text: str
    html: str
    rows: tuple[Mapping[str, str], ...]  # per invoice, the figures as printed
    total: str
    show_other: bool  # some line has an amount announced as paid or with Legal


class NoticeTemplates:
    """Two sandboxed environments on one template folder: HTML escapes, plain text does not.
    Built once by the composition root; templates are compiled on first use and cached."""

    def __init__(self, folder: Path = TEMPLATES):
        self._folder = folder
        loader = FileSystemLoader(folder)
        self._html = SandboxedEnvironment(loader=loader, autoescape=True, undefined=StrictUndefined)
        self._text = SandboxedEnvironment(
            loader=loader, autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
        )

    def has(self, template_id: str) -> bool:
        """Whether a ladder level may name `template_id` (a plain name, its file present)."""
        return (
            bool(_TEMPLATE_ID.match(template_id))
            and (self._folder / "dunning" / f"{template_id}.jinja").is_file()
        )

    def render(
        self, notice: Notice, recipient: Recipient, business_date: date, sender_name: str
    ) -> RenderedNotice:
        context = _context(notice, recipient, business_date, sender_name)
        name = f"dunning/{notice.level.template_id}.jinja"
        plain = self._text.get_template(name)
        text = plain.render(context, layout="dunning/_email.txt")
        html = self._html.get_template(name).render(context, layout="dunning/_email.html")

        def block(block_name: str) -> str:  # one block alone: a letter and a task use them so
            scope = plain.new_context(context | {"layout": "dunning/_email.txt"})
            return "".join(plain.blocks[block_name](scope)).strip()

        return RenderedNotice(
            subject=_LINE_BREAKS.sub(" ", block("subject")),  # one header line, always
            intro=block("intro"),
            closing=block("closing"),
            text=text,
            html=html,
            rows=context["lines"],
            total=context["total"],
            show_other=context["show_other"],
        )


def _context(
    notice: Notice, recipient: Recipient, business_date: date, sender_name: str
) -> dict[str, Any]:
    locale = locale_for(recipient.language)
    currency = notice.currency

    def fmt(minor: int) -> str:
        return money(minor, currency, locale)

    lines = tuple(
        {
            "number": line.number,
            "due_date": day(line.due_date, locale),
            "open": fmt(line.open_minor),
            "in_dispute": fmt(line.in_dispute_minor),
            "promised": fmt(line.promised_minor),
            "other": fmt(line.in_legal_minor + line.claimed_paid_minor),
            "due_now": fmt(line.due_now_minor),
        }
        for line in notice.lines
    )
    return {
        "language": locale.language,
        "customer_name": recipient.customer_name,
        "greeting": f"Dear {recipient.contact_name or recipient.customer_name},",
        "business_date": day(business_date, locale),
        "level": notice.level.code,
        "lines": lines,
        "show_other": any(line.in_legal_minor or line.claimed_paid_minor for line in notice.lines),
        "total": fmt(notice.total_minor),
        "unallocated_cash": fmt(notice.unallocated_cash_minor)
        if notice.unallocated_cash_minor
        else "",
        "sender_name": sender_name,
    }
