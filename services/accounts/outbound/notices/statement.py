"""A statement of account: every open invoice of a customer in one currency as of a date, with
open / in dispute / promised / with Legal / announced as paid / to collect, on the same
`collectible.to_collect` arithmetic as dunning, exported as CSV (common/reports/csv_export.py)
and as a PDF."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from common.money import currency_exponent
from common.reports.csv_export import write_csv
from common.reports.envelope import Cell, Column, ColumnType, Table
from services.accounts.domain.collectible import to_collect
from services.accounts.domain.dunning import InvoicePosition
from services.accounts.outbound.notices import pdf
from services.accounts.outbound.notices.formatting import day, locale_for, money
from services.accounts.outbound.notices.render import Recipient

_AMOUNTS = ("open", "in_dispute", "promised", "in_legal", "claimed_paid", "to_collect")


@dataclass(frozen=True)
class StatementLine:
    number: str
    due_date: date
    days_past_due: int
    open_minor: int
    in_dispute_minor: int
    promised_minor: int
    in_legal_minor: int
    claimed_paid_minor: int
    to_collect_minor: int


@dataclass(frozen=True)
class Statement:
    customer_id: str
    currency: str
    as_of: date
    lines: tuple[StatementLine, ...]

    @property
    def to_collect_minor(self) -> int:
        return sum(line.to_collect_minor for line in self.lines)

    @property
    def open_minor(self) -> int:
        return sum(line.open_minor for line in self.lines)


def build(
    customer_id: str, currency: str, as_of: date, invoices: Iterable[InvoicePosition]
) -> Statement:
    lines = tuple(
        StatementLine(
            number=i.number,
            due_date=i.due_date,
            days_past_due=(as_of - i.due_date).days,
            open_minor=i.open_minor,
            in_dispute_minor=i.held_minor,
            promised_minor=i.promised_minor,
            in_legal_minor=i.in_legal_minor,
            claimed_paid_minor=i.claimed_paid_minor,
            to_collect_minor=to_collect(
                i.open_minor, i.held_minor, i.promised_minor, i.in_legal_minor,
                i.claimed_paid_minor,
            ),
        )
        for i in sorted(invoices, key=lambda i: (i.due_date, i.number))
        if i.open_minor > 0
    )  # fmt: skip
    return Statement(customer_id, currency, as_of, lines)


def table(statement: Statement) -> Table:
    exponent = currency_exponent(statement.currency)

    def amount(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-exponent)

    columns = (
        Column("invoice", ColumnType.TEXT),
        Column("due_date", ColumnType.DATE),
        Column("days_past_due", ColumnType.INT),
        Column("currency", ColumnType.TEXT),
        *(Column(name, ColumnType.MONEY, currency_column="currency") for name in _AMOUNTS),
    )
    rows: list[tuple[Cell, ...]] = [
        (
            line.number,
            line.due_date,
            line.days_past_due,
            statement.currency,
            *(amount(getattr(line, f"{name}_minor")) for name in _AMOUNTS),
        )
        for line in statement.lines
    ]
    return Table(f"statement_{statement.as_of.isoformat()}", columns, rows)


async def write_statement_csv(statement: Statement, out: BinaryIO) -> int:
    return await write_csv(table(statement), out)


def statement_pdf(statement: Statement, recipient: Recipient) -> bytes:
    locale = locale_for(recipient.language)

    def fmt(minor: int) -> str:
        return money(minor, statement.currency, locale)

    rows = [
        {
            "number": line.number,
            "due_date": day(line.due_date, locale),
            **{name: fmt(getattr(line, f"{name}_minor")) for name in _AMOUNTS},
        }
        for line in statement.lines
    ]
    header = ["Invoice", "Due date", "Open", "In dispute", "Promised", "With Legal",
              "Announced paid", "To collect"]  # fmt: skip
    return pdf.statement(
        f"Statement of account as of {day(statement.as_of, locale)} ({statement.currency})",
        recipient,
        header,
        ["number", "due_date", *_AMOUNTS],
        rows,
        f"Total to collect: {fmt(statement.to_collect_minor)}",
    )
