"""The CSV and XLSX exports: formula-injection escape, RFC 4180 quoting, typed cells read back
from the XLSX parts, and memory that does not grow with the row count."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from common.reports.csv_export import CsvWriter, write_csv
from common.reports.envelope import Column, ColumnType, ReportResult, Table
from common.reports.escape import neutralize_formula
from common.reports.xlsx_export import write_xlsx
from common.settings import PROJECT_ROOT
from tests.common.reports.sample_report import invoice_report, invoice_rows
from tests.common.reports.xlsx_reading import read_workbook

HOSTILE = ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_formula_trigger_is_escaped_with_a_leading_apostrophe(text):
    assert neutralize_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["", "Acme", "1-2", "a=b", " =1", "'=1", "€=1"])
def test_text_that_does_not_start_a_formula_is_unchanged(text):
    assert neutralize_formula(text) == text


def _table(rows, columns=None) -> Table:
    columns = columns or (
        Column("name", ColumnType.TEXT),
        Column("due", ColumnType.DATE),
        Column("amount", ColumnType.MONEY, currency_column="currency"),
        Column("currency", ColumnType.TEXT),
        Column("count", ColumnType.INT),
        Column("share", ColumnType.PERCENT),
    )
    return Table("t", columns, rows)


async def _csv(table: Table) -> bytes:
    out = io.BytesIO()
    await write_csv(table, out)
    return out.getvalue()


async def test_csv_is_rfc_4180_utf8_with_iso_dates_and_plain_decimals():
    rows = [
        ('Müller, "Süd" GmbH', date(2026, 2, 28), Decimal("1E+3"), "EUR", 3, Decimal("12.50")),
        ("line\nbreak", date(2024, 2, 29), Decimal("-0.05"), "JPY", -1, Decimal("0")),
        ("plain", None, None, "USD", None, None),
    ]
    data = await _csv(_table(rows))
    assert data.decode("utf-8").split("\r\n") == [
        "name,due,amount,currency,count,share",
        '"Müller, ""Süd"" GmbH",2026-02-28,1000,EUR,3,12.50',
        '"line\nbreak",2024-02-29,-0.05,JPY,-1,0',
        "plain,,,USD,,",
        "",
    ]
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed[1][0] == 'Müller, "Süd" GmbH' and parsed[2][0] == "line\nbreak"


async def test_csv_escapes_hostile_text_but_never_a_negative_amount():
    rows = [(text, None, Decimal("-5"), "EUR", -2, Decimal("-1.5")) for text in HOSTILE]
    parsed = list(csv.reader(io.StringIO((await _csv(_table(rows))).decode(), newline="")))
    assert [r[0] for r in parsed[1:]] == ["'" + t for t in HOSTILE]
    assert {(r[2], r[4], r[5]) for r in parsed[1:]} == {("-5", "-2", "-1.5")}


async def test_csv_reads_async_rows_and_counts_them():
    async def rows():
        for row in invoice_rows(3):
            yield row

    out = io.BytesIO()
    assert await write_csv(invoice_report(rows()).tables[0], out) == 3
    assert out.getvalue().count(b"\r\n") == 4


async def test_csv_blocks_leave_as_their_rows_are_written_and_add_up_to_the_file():
    """ExportReport streams these blocks: the first leaves before the last row is read."""
    read = []

    async def rows():
        for row in invoice_rows(2_000):
            read.append(row)
            yield row

    writer = CsvWriter(invoice_report(rows()).tables[0])
    blocks, read_at_first = [], None
    async for block in writer.blocks(16 * 1024):
        blocks.append(block)
        read_at_first = len(read) if read_at_first is None else read_at_first
    whole = io.BytesIO()
    await write_csv(invoice_report(invoice_rows(2_000)).tables[0], whole)
    assert b"".join(blocks) == whole.getvalue() and writer.rows == 2_000
    assert len(blocks) > 5 and read_at_first < 2_000
    assert all(len(b) < 16 * 1024 + 1_000 for b in blocks)  # a block is about its size


async def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="a row has 2 cells"):
        await _csv(_table([("a", None)]))


def test_a_money_column_needs_a_text_currency_column():
    with pytest.raises(ValueError):
        Table("t", (Column("amount", ColumnType.MONEY),), [])
    with pytest.raises(ValueError, match="must be text"):
        Table("t", (Column("a", ColumnType.MONEY, "n"), Column("n", ColumnType.INT)), [])


async def test_xlsx_has_typed_cells_currency_formats_frozen_filtered_header_and_parameters(
    tmp_path,
):
    path = tmp_path / "report.xlsx"
    counts = await write_xlsx(invoice_report(invoice_rows(3), name="Open: [invoices]"), path)
    assert counts == {"Open: [invoices]": 3}

    data, parameters = read_workbook(path)
    assert data.name == "Open_ _invoices_"
    assert data.frozen_rows == 1 and data.autofilter == "A1:G4"
    assert data.row(1) == [
        "invoice", "customer", "due_date", "open_amount", "currency", "days_past_due",
        "share_of_ar",
    ]  # fmt: skip
    assert data.row(2) == ["INV-0000000", "Customer 0", 46023.0, 0.05, "JPY", 0.0, 0.0]
    assert data.row(3) == ["INV-0000001", "Customer 1", 46024.0, 0.06, "EUR", 1.0, 0.0001]
    assert data.cells["C2"].number_format == "yyyy-mm-dd"  # 46023 is 2026-01-01
    assert data.cells["D2"].number_format == '#,##0 "JPY"'
    assert data.cells["D3"].number_format == '#,##0.00 "EUR"'
    assert data.cells["F3"].number_format == "#,##0"
    assert data.cells["G3"].number_format == "0.00%"  # 0.01 % stored as 0.0001

    assert parameters.name == "Parameters" and parameters.frozen_rows == 0
    assert [parameters.row(n) for n in range(1, 9)] == [
        ["name", "value"],
        ["report", "accounts.open_invoices"],
        ["as_of", "2026-03-31T22:00:00Z"],
        ["generated_at", "2026-04-01T06:00:05Z"],
        ["formula_version", "2026.1"],
        ["data_watermark", "ledger:918273"],
        ["parameter.portfolio", "EMEA"],
        ["parameter.period", "2026-03"],
    ]


async def test_xlsx_escapes_hostile_text_in_cells_and_parameters(tmp_path):
    columns = (Column("=name", ColumnType.TEXT),)
    result = ReportResult(
        report="r", as_of=invoice_report([]).as_of, generated_at=invoice_report([]).as_of,
        parameters={"customer": "@evil"}, formula_version="1", data_watermark="w",
        tables=(Table("t", columns, [(t,) for t in HOSTILE]),),
    )  # fmt: skip
    await write_xlsx(result, tmp_path / "r.xlsx")
    data, parameters = read_workbook(tmp_path / "r.xlsx")
    assert [data.row(n)[0] for n in range(1, 8)] == ["'=name", *("'" + t for t in HOSTILE)]
    assert parameters.row(7) == ["parameter.customer", "'@evil"]


async def test_a_table_longer_than_a_sheet_continues_on_numbered_sheets(tmp_path):
    path = tmp_path / "long.xlsx"
    counts = await write_xlsx(invoice_report(invoice_rows(7)), path, max_rows_per_sheet=4)
    assert counts == {"Open invoices": 7}
    sheets = read_workbook(path)
    assert [s.name for s in sheets] == [
        "Open invoices", "Open invoices (2)", "Open invoices (3)", "Parameters",
    ]  # fmt: skip
    assert [s.autofilter for s in sheets[:3]] == ["A1:G4", "A1:G4", "A1:G2"]
    invoices = [s.row(n)[0] for s in sheets[:3] for n in range(2, 5) if f"A{n}" in s.cells]
    assert invoices == [f"INV-{n:07d}" for n in range(7)]
    assert all(s.row(1)[0] == "invoice" and s.frozen_rows == 1 for s in sheets[:3])


def _measure(rows: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure.export_memory", str(rows)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.mark.timeout(300)
def test_export_memory_does_not_grow_with_the_row_count():
    """The full 1,000,000-row figure is `python -m bench.measure.export_memory`
    (about a minute); here 20,000 and 200,000 rows must peak within a few MB of each other,
    which a writer that kept rows (or cells) would not."""
    small, large = _measure(20_000), _measure(200_000)
    assert large["csv_bytes"] > 9 * small["csv_bytes"]
    assert large["peak_rss_mb"] - small["peak_rss_mb"] < 8, (small, large)
    assert large["peak_rss_mb"] < 200
