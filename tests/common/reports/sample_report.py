"""A report built the way services will build theirs, for the export tests and the measurement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from common.reports.envelope import Column, ColumnType, ReportResult, Table

INVOICE_COLUMNS = (
    Column("invoice", ColumnType.TEXT),
    Column("customer", ColumnType.TEXT),
    Column("due_date", ColumnType.DATE),
    Column("open_amount", ColumnType.MONEY, currency_column="currency"),
    Column("currency", ColumnType.TEXT),
    Column("days_past_due", ColumnType.INT),
    Column("share_of_ar", ColumnType.PERCENT),
)


def invoice_rows(count: int) -> Iterator[tuple]:
    """Generated one at a time: the source never holds the rows either."""
    first_due = date(2026, 1, 1)
    for n in range(count):
        yield (
            f"INV-{n:07d}",
            f"Customer {n % 5000}",
            first_due + timedelta(days=n % 365),
            Decimal(n % 1_000_000) / 100 + Decimal("0.05"),
            "EUR" if n % 3 else "JPY",
            n % 365,
            Decimal(n % 10_000) / 100,
        )


def invoice_report(rows, *, name: str = "Open invoices") -> ReportResult:
    return ReportResult(
        report="accounts.open_invoices",
        as_of=datetime(2026, 3, 31, 22, 0, tzinfo=UTC),
        generated_at=datetime(2026, 4, 1, 6, 0, 5, tzinfo=UTC),
        parameters={"portfolio": "EMEA", "period": "2026-03"},
        formula_version="2026.1",
        data_watermark="ledger:918273",
        tables=(Table(name, INVOICE_COLUMNS, rows),),
    )
