"""A report result written to a file in its export format, and read back in chunks: what the
ExportReport RPC streams and what a scheduled run keeps for download. The rows go from the query
to the file as they are read; the file, never the process, holds the report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from common.errors import InvalidArgument
from common.reports.csv_export import write_csv
from common.reports.envelope import ReportResult, Table
from common.reports.schedules import ExportFormat
from common.reports.xlsx_export import write_xlsx

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_BYTES = 256 * 1024  # well under gRPC's 4 MB message limit


def chosen_table(result: ReportResult, name: str) -> Table:
    """A CSV holds one table: the one named, or the report's first."""
    if not name:
        return result.tables[0]
    for table in result.tables:
        if table.name == name:
            return table
    known = ", ".join(t.name for t in result.tables)
    raise InvalidArgument.of("table", f"{result.report} has no table {name[:80]!r}; it has {known}")


async def write_artefact(
    result: ReportResult, export_format: ExportFormat, path: Path, table: str = ""
) -> int:
    """Writes the file; returns the number of data rows written (all tables for XLSX)."""
    if export_format is ExportFormat.CSV:
        selected = chosen_table(result, table)
        with path.open("wb") as out:
            return await write_csv(selected, out)
    return sum((await write_xlsx(result, path)).values())


async def chunks(path: Path, size: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as source:
        while block := await source.read(size):
            yield block
