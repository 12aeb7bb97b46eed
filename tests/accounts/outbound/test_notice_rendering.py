"""Dunning notices as the customer reads them: the level's template in the customer's locale,
every invoice with open / in dispute / promised / due now, HTML escaped, the sandbox closed, and
the PDF letter and statement carrying the total."""

from __future__ import annotations

import io
import re
import zlib
from datetime import date

import pytest
from jinja2.exceptions import SecurityError

from services.accounts.domain.dunning import CustomerFlags, InvoicePosition, Notice, decide
from services.accounts.domain.ladder import DEFAULT_LADDER
from services.accounts.outbound.notices import pdf
from services.accounts.outbound.notices.render import NoticeTemplates, Recipient
from services.accounts.outbound.notices.statement import build, statement_pdf, write_statement_csv

TODAY = date(2026, 6, 30)
BOOKS = [
    InvoicePosition("i1", "A-1", date(2026, 6, 1), 123_456, held_minor=20_000,
                    promised_minor=3_456),
    InvoicePosition("i2", "<b>B-2</b>", date(2026, 6, 10), 5_000),
]  # fmt: skip
TEMPLATES = NoticeTemplates()


def notice(books=BOOKS, currency="EUR") -> Notice:
    decision = decide(
        customer_id="c1",
        currency=currency,
        invoices=books,
        flags=CustomerFlags(),
        unallocated_cash_minor=0,
        previous=[],
        ladder=DEFAULT_LADDER,
        business_date=TODAY,
    )
    assert isinstance(decision, Notice)
    return decision


def pdf_text(document: bytes) -> str:
    """The text of every content stream (fpdf2 deflates them)."""
    assert document.startswith(b"%PDF")
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("cp1252", "replace"))
        except zlib.error:
            chunks.append(stream.decode("cp1252", "replace"))
    return "\n".join(chunks)


def test_the_notice_lists_why_the_total_differs_from_the_open_amount_in_german():
    rendered = TEMPLATES.render(notice(), Recipient("Müller & Co", "de"), TODAY, "Settle AR")
    assert rendered.subject == "Second reminder: 1.050,00\xa0€ overdue"
    assert (
        "Invoice A-1, due 01.06.2026: open 1.234,56\xa0€, in dispute 200,00\xa0€, promised "
        "34,56\xa0€, due now 1.000,00\xa0€"
    ) in rendered.text
    assert "Total due now: 1.050,00\xa0€" in rendered.text
    assert "Payment announced" not in rendered.text  # no such amount: no such column
    assert (
        "<td>1.234,56\xa0€</td><td>200,00\xa0€</td><td>34,56\xa0€</td><td>1.000,00\xa0€</td>"
        in (rendered.html)
    )


def test_html_is_escaped_and_text_is_not():
    rendered = TEMPLATES.render(notice(), Recipient("Müller & Co", "en"), TODAY, "Settle AR")
    assert "Müller &amp; Co" in rendered.html and "&lt;b&gt;B-2&lt;/b&gt;" in rendered.html
    assert "<b>B-2</b>" not in rendered.html
    assert "Dear Müller & Co," in rendered.text and "Invoice <b>B-2</b>" in rendered.text
    assert rendered.total == "€1,050.00"  # English locale, the fallback too
    unknown = TEMPLATES.render(notice(), Recipient("X", "xx-YY"), TODAY, "Settle AR")
    assert unknown.total == "€1,050.00"


def test_amounts_announced_or_with_legal_get_their_own_column():
    books = [InvoicePosition("i1", "A-1", date(2026, 6, 1), 10_000, claimed_paid_minor=2_500)]
    rendered = TEMPLATES.render(notice(books), Recipient("C", "en"), TODAY, "S")
    assert "payment announced / with Legal €25.00, due now €75.00" in rendered.text


@pytest.mark.parametrize("level", DEFAULT_LADDER.levels, ids=lambda lv: lv.code)
def test_every_level_of_the_seed_ladder_has_a_template(level):
    books = [InvoicePosition("i1", "A-1", date(2026, 6, 1), 10_000)]
    from dataclasses import replace

    rendered = TEMPLATES.render(replace(notice(books), level=level), Recipient("C", "en"), TODAY,
                                "S")  # fmt: skip
    assert rendered.subject and rendered.intro and rendered.closing
    assert "\n" not in rendered.subject


def test_the_sandbox_refuses_python_internals(tmp_path):
    (tmp_path / "dunning").mkdir()
    (tmp_path / "dunning" / "reminder.jinja").write_text(
        "{% block subject %}{{ lines.__class__.__mro__[1].__subclasses__() }}{% endblock %}"
    )
    with pytest.raises(SecurityError):
        NoticeTemplates(tmp_path).render(notice([BOOKS[1]]), Recipient("C", "en"), TODAY, "S")


def test_the_letter_is_a_pdf_carrying_the_total_and_every_invoice():
    rendered = TEMPLATES.render(notice(), Recipient("Müller & Co", "de"), TODAY, "Settle AR")
    document = pdf.letter(
        rendered,
        Recipient("Müller & Co", "de", postal_address=("Hauptstr. 1", "10115 Berlin")),
        "30.06.2026",
        "Settle AR",
    )
    text = pdf_text(document)
    assert "Total due now: 1.050,00 \x80" in text.replace("€", "\x80")
    assert "Hauptstr. 1" in text and "M\xfcller" in text and "A-1" in text


def test_a_french_amount_and_an_unencodable_name_still_make_a_letter():
    rendered = TEMPLATES.render(notice(), Recipient("Ωmega SA", "fr"), TODAY, "Settle AR")
    text = pdf_text(pdf.letter(rendered, Recipient("Ωmega SA", "fr"), "30 juin 2026", "S"))
    assert "1 050,00" in text and "?mega SA" in text


async def test_the_statement_of_account_on_the_same_arithmetic_as_csv_and_pdf():
    books = [
        *BOOKS,
        InvoicePosition("i3", "C-3", date(2026, 7, 20), 7_000, in_legal_minor=1_000,
                        claimed_paid_minor=500),
        InvoicePosition("i4", "PAID", date(2026, 5, 1), 0),
    ]  # fmt: skip
    statement = build("c1", "EUR", TODAY, books)
    assert [line.number for line in statement.lines] == ["A-1", "<b>B-2</b>", "C-3"]
    assert [line.to_collect_minor for line in statement.lines] == [100_000, 5_000, 5_500]
    assert statement.to_collect_minor == 110_500 and statement.open_minor == 135_456

    out = io.BytesIO()
    assert await write_statement_csv(statement, out) == 3
    csv_lines = out.getvalue().decode().split("\r\n")
    assert csv_lines[0] == (
        "invoice,due_date,days_past_due,currency,open,in_dispute,promised,in_legal,"
        "claimed_paid,to_collect"
    )
    assert csv_lines[1] == "A-1,2026-06-01,29,EUR,1234.56,200.00,34.56,0.00,0.00,1000.00"
    assert csv_lines[3] == "C-3,2026-07-20,-20,EUR,70.00,0.00,0.00,10.00,5.00,55.00"

    text = pdf_text(statement_pdf(statement, Recipient("Müller & Co", "en")))
    assert "Total to collect: \x801,105.00" in text.replace("€", "\x80")
