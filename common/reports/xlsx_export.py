"""XLSX export with XlsxWriter in constant-memory mode: each row goes to a temporary file as soon
as the next one starts, so a million rows cost what one row costs. One sheet per table (a table
longer than Excel's 1,048,576 rows continues on "<name> (2)", ...), then a Parameters sheet.
Amounts are numbers with their currency's number format, dates are dates, the header row is
frozen and filtered. Excel stores numbers as binary doubles (15 significant digits): the CSV is
the exact export, the XLSX the one to work in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from common.money import currency_exponent
from common.reports.envelope import Cell, Column, ColumnType, ReportResult, Row, Table, iterate
from common.reports.escape import neutralize_formula

EXCEL_MAX_ROWS = 1_048_576
PARAMETERS_SHEET = "Parameters"
_SHEET_NAME_MAX = 31
_FORBIDDEN_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\']")
_WIDTHS = {
    ColumnType.TEXT: 24,
    ColumnType.DATE: 11,
    ColumnType.DECIMAL: 14,
    ColumnType.MONEY: 16,
    ColumnType.INT: 10,
    ColumnType.PERCENT: 10,
}


class _Styles:
    """Formats made once per workbook; one money format per currency met."""

    def __init__(self, workbook: Workbook):
        self._workbook = workbook
        self.header = workbook.add_format({"bold": True})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.int = workbook.add_format({"num_format": "#,##0"})
        self.percent = workbook.add_format({"num_format": "0.00%"})
        self._money: dict[str, Format] = {}

    def money(self, currency: str) -> Format:
        style = self._money.get(currency)
        if style is None:
            exponent = currency_exponent(currency)
            digits = "#,##0" + ("." + "0" * exponent if exponent else "")
            style = self._workbook.add_format({"num_format": f'{digits} "{currency}"'})
            self._money[currency] = style
        return style


CellWriter = Callable[[Worksheet, int, int, Cell, Row], None]


def _number(value: Cell) -> float:
    """A numeric cell as Excel stores it (a double); text is never written as a number."""
    if not isinstance(value, int | Decimal):
        raise TypeError(f"expected a Decimal or int, got {type(value).__name__}")
    return float(value)


def _fraction(percent: Cell) -> float:
    """85.42 (percent) as the cell's 0.8542, divided exactly before the one rounding to double."""
    if not isinstance(percent, int | Decimal):
        raise TypeError(f"expected a Decimal or int, got {type(percent).__name__}")
    return float(Decimal(percent) / 100)


def _cell_writers(table: Table, styles: _Styles) -> list[CellWriter]:
    def writer(column: Column) -> CellWriter:
        match column.type:
            case ColumnType.TEXT:
                return lambda ws, r, c, v, _row: ws.write_string(r, c, neutralize_formula(str(v)))
            case ColumnType.DATE:
                return lambda ws, r, c, v, _row: ws.write_datetime(r, c, v, styles.date)
            case ColumnType.DECIMAL:
                return lambda ws, r, c, v, _row: ws.write_number(r, c, _number(v))
            case ColumnType.INT:
                return lambda ws, r, c, v, _row: ws.write_number(r, c, v, styles.int)
            case ColumnType.PERCENT:
                return lambda ws, r, c, v, _row: ws.write_number(r, c, _fraction(v), styles.percent)
            case ColumnType.MONEY:
                at = table.index_of(column.currency_column or "")
                return lambda ws, r, c, v, row: ws.write_number(
                    r, c, _number(v), styles.money(str(row[at]))
                )
        raise AssertionError(column.type)

    return [writer(column) for column in table.columns]


class _SheetNames:
    """Excel's rules: at most 31 characters, none of []:*?/\\', unique ignoring case."""

    def __init__(self) -> None:
        self._taken: set[str] = {PARAMETERS_SHEET.casefold()}

    def claim(self, wanted: str) -> str:
        base = _FORBIDDEN_IN_SHEET_NAME.sub("_", wanted).strip() or "Sheet"
        name, number = base[:_SHEET_NAME_MAX], 1
        while name.casefold() in self._taken:
            number += 1
            suffix = f" ({number})"
            name = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
        self._taken.add(name.casefold())
        return name


def _start_sheet(workbook: Workbook, name: str, table: Table, styles: _Styles) -> Worksheet:
    sheet = workbook.add_worksheet(name)
    for index, column in enumerate(table.columns):
        width = max(_WIDTHS[column.type], len(column.name) + 2)
        sheet.set_column(index, index, width)
        sheet.write_string(0, index, neutralize_formula(column.name), styles.header)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish_sheet(sheet: Worksheet, last_row: int, table: Table) -> None:
    sheet.autofilter(0, 0, last_row, len(table.columns) - 1)


async def _write_table(
    workbook: Workbook, names: _SheetNames, table: Table, styles: _Styles, max_rows: int
) -> int:
    writers = _cell_writers(table, styles)
    sheet = _start_sheet(workbook, names.claim(table.name), table, styles)
    sheet_row = count = 0
    async for row in iterate(table.rows):
        if len(row) != len(writers):
            raise ValueError(f"table {table.name!r}: a row has {len(row)} cells")
        if sheet_row == max_rows - 1:  # this sheet is full: continue on the next one
            _finish_sheet(sheet, sheet_row, table)
            sheet = _start_sheet(workbook, names.claim(table.name), table, styles)
            sheet_row = 0
        sheet_row += 1
        for col, (write, value) in enumerate(zip(writers, row, strict=True)):
            if value is not None:
                write(sheet, sheet_row, col, value, row)
        count += 1
    _finish_sheet(sheet, sheet_row, table)
    return count


def _write_parameters(workbook: Workbook, result: ReportResult, styles: _Styles) -> None:
    sheet = workbook.add_worksheet(PARAMETERS_SHEET)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 48)
    sheet.write_string(0, 0, "name", styles.header)
    sheet.write_string(0, 1, "value", styles.header)
    for row, (name, value) in enumerate(result.provenance(), start=1):
        sheet.write_string(row, 0, neutralize_formula(name))
        sheet.write_string(row, 1, neutralize_formula(value))


async def write_xlsx(
    result: ReportResult, path: Path, *, max_rows_per_sheet: int = EXCEL_MAX_ROWS
) -> dict[str, int]:
    """Writes `result` to `path`; returns the number of data rows per table."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    styles = _Styles(workbook)
    names = _SheetNames()
    counts: dict[str, int] = {}
    try:
        for table in result.tables:
            counts[table.name] = await _write_table(
                workbook, names, table, styles, max_rows_per_sheet
            )
        _write_parameters(workbook, result, styles)
    finally:
        await asyncio.to_thread(workbook.close)  # zipping a large sheet takes seconds
    return counts
