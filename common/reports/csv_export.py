"""CSV export, RFC 4180: UTF-8, comma separated, CRLF line ends, a field quoted only when it holds
a comma, a quote or a line break (quotes doubled). Dates are ISO 8601, amounts plain decimals
(no grouping, no symbol) beside their table's currency column, percentages plain decimals.
Rows are written as they arrive: the file, not the process, holds them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from common.reports.envelope import Cell, ColumnType, Table, iterate
from common.reports.escape import neutralize_formula


def _plain_number(value: Cell) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3": a spreadsheet must not guess
    if type(value) is int:
        return str(value)
    raise TypeError(f"expected a Decimal or int, got {type(value).__name__}")


def _iso_date(value: Cell) -> str:
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value.isoformat()


def _text(value: Cell) -> str:
    return neutralize_formula(str(value))


_CSV_TEXT: dict[ColumnType, Callable[[Cell], str]] = {
    ColumnType.TEXT: _text,
    ColumnType.DATE: _iso_date,
    ColumnType.DECIMAL: _plain_number,
    ColumnType.MONEY: _plain_number,
    ColumnType.INT: _plain_number,
    ColumnType.PERCENT: _plain_number,
}


class CsvWriter:
    """A table's CSV as blocks of about `size` bytes, made as its rows arrive (what ExportReport
    streams while the query is still being read); `rows` counts the data rows written."""

    def __init__(self, table: Table):
        self.table, self.rows = table, 0

    async def blocks(self, size: int) -> AsyncIterator[bytes]:
        table = self.table
        converters = [_CSV_TEXT[column.type] for column in table.columns]
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([neutralize_formula(column.name) for column in table.columns])
        async for row in iterate(table.rows):
            if len(row) != len(converters):
                raise ValueError(f"table {table.name!r}: a row has {len(row)} cells")
            writer.writerow(
                ["" if v is None else f(v) for f, v in zip(converters, row, strict=True)]
            )
            self.rows += 1
            if buffer.tell() >= size:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


BLOCK_BYTES = 256 * 1024


async def write_csv(table: Table, out: BinaryIO) -> int:
    """Writes the header and every row of `table` to `out`; returns the number of data rows.
    A report of several tables is exported as one CSV per table."""
    writer = CsvWriter(table)
    async for block in writer.blocks(BLOCK_BYTES):
        out.write(block)
    return writer.rows
