"""`python -m services.accounts import FILE --currency USD`: import open items from a CSV into the
configured database and print the report (the same use case as the ImportOpenItems RPC)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

from common.settings import Settings
from services.accounts.domain.csv_import import ColumnMapping
from services.accounts.server import assemble
from services.accounts.service.importing import import_open_items


class _Lines:
    """The file's lines, read from the start at each pass (the import reads it twice)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[str]:
        with self.path.open(encoding="utf-8-sig", newline="") as lines:
            yield from lines


async def _run(settings: Settings, path: Path, currency: str) -> dict:
    ctx = assemble(settings).ctx  # the use cases only: no server is started
    try:
        result = await import_open_items(ctx, _Lines(path), ColumnMapping.sample_file(), currency)
    finally:
        await ctx.db.dispose()
    return {
        "file": str(path),
        "rows_read": result.rows_read,
        "imported": result.imported,
        "skipped": result.skipped,
        "customers_created": result.customers_created,
        "payments_recorded": result.payments_recorded,
        "rejected": len(result.rejected),
        "rejections": [
            {"line": r.line_no, "reason": str(r.reason_code), "message": r.message}
            for r in result.rejected
        ],
    }


def import_command(settings: Settings, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.accounts import")
    parser.add_argument("file", type=Path)
    parser.add_argument("--currency", required=True, help="ISO 4217 code of every amount")
    args = parser.parse_args(argv)
    report = asyncio.run(_run(settings, args.file, args.currency.upper()))
    print(json.dumps(report, indent=2))
