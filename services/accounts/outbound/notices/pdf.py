"""PDF letters and statements with fpdf2 (pure wheels, no system libraries).

The built-in Helvetica is written in Windows-1252, which holds every Western European letter and
the euro sign; a character outside it (e.g. Babel's narrow no-break space in French amounts)
becomes a plain space or "?" instead of failing the letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fpdf import FPDF

from services.accounts.outbound.notices.render import Recipient, RenderedNotice

_ENCODING = "windows-1252"
_SPACES = str.maketrans({"\u202f": " ", "\u2009": " ", "\u00a0": " "})


def printable(text: str) -> str:
    return text.translate(_SPACES).encode(_ENCODING, "replace").decode(_ENCODING)


def _document() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    return pdf


def _paragraph(pdf: FPDF, text: str, *, size: int = 10, bold: bool = False) -> None:
    pdf.set_font("helvetica", style="B" if bold else "", size=size)
    pdf.multi_cell(0, 5, printable(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _table(
    pdf: FPDF, header: Sequence[str], keys: Sequence[str], rows: Sequence[Mapping[str, str]]
) -> None:
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(header)
    pdf.set_font("helvetica", style="B", size=8)
    for title in header:
        pdf.cell(width, 6, printable(title), border="B")
    pdf.ln()
    pdf.set_font("helvetica", size=8)
    for row in rows:
        for i, key in enumerate(keys):
            pdf.cell(width, 5, printable(row[key]), align="L" if i < 2 else "R")
        pdf.ln()
    pdf.ln(2)


def _address(pdf: FPDF, recipient: Recipient) -> None:
    for line in (recipient.customer_name, *recipient.postal_address):
        pdf.cell(0, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def letter(rendered: RenderedNotice, recipient: Recipient, dated: str, sender_name: str) -> bytes:
    """A dunning letter: address, date, subject, the level's text and every invoice's figures."""
    pdf = _document()
    _address(pdf, recipient)
    _paragraph(pdf, dated)
    _paragraph(pdf, rendered.subject, size=12, bold=True)
    _paragraph(pdf, f"Dear {recipient.contact_name or recipient.customer_name},")
    _paragraph(pdf, rendered.intro)
    header = ["Invoice", "Due date", "Open", "In dispute", "Promised", "Due now"]
    keys = ["number", "due_date", "open", "in_dispute", "promised", "due_now"]
    if rendered.show_other:
        header.insert(5, "Announced / Legal")
        keys.insert(5, "other")
    _table(pdf, header, keys, rendered.rows)
    _paragraph(pdf, f"Total due now: {rendered.total}", bold=True)
    _paragraph(pdf, "Amounts in dispute or covered by your promise to pay are not requested.")
    _paragraph(pdf, rendered.closing)
    _paragraph(pdf, sender_name)
    return bytes(pdf.output())


def statement(
    title: str,
    recipient: Recipient,
    header: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    total_line: str,
) -> bytes:
    pdf = _document()
    _address(pdf, recipient)
    _paragraph(pdf, title, size=12, bold=True)
    _table(pdf, header, keys, rows)
    _paragraph(pdf, total_line, bold=True)
    return bytes(pdf.output())
