"""Peak memory of a CSV and an XLSX export of N generated rows, in a fresh process:
`python -m bench.measure.export_memory 1000000` prints one JSON line
({"rows", "csv_seconds", "xlsx_seconds", "peak_rss_mb", "baseline_rss_mb", "csv_bytes",
"xlsx_bytes"}). The peak is the process's VmHWM, interpreter included: not ru_maxrss, which
Linux carries across fork and exec, so a child of a large pytest process would report its parent's
peak."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from common.reports.csv_export import write_csv
from common.reports.xlsx_export import write_xlsx
from tests.common.reports.sample_report import invoice_report, invoice_rows


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


async def measure(rows: int, directory: Path) -> dict:
    baseline = _peak_rss_mb()
    csv_path, xlsx_path = directory / "export.csv", directory / "export.xlsx"
    started = time.perf_counter()
    with csv_path.open("wb") as out:
        written = await write_csv(invoice_report(invoice_rows(rows)).tables[0], out)
    csv_done = time.perf_counter()
    counts = await write_xlsx(invoice_report(invoice_rows(rows)), xlsx_path)
    xlsx_done = time.perf_counter()
    assert written == rows and list(counts.values()) == [rows]
    return {
        "rows": rows,
        "csv_seconds": round(csv_done - started, 2),
        "xlsx_seconds": round(xlsx_done - csv_done, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "baseline_rss_mb": round(baseline, 1),
        "csv_bytes": csv_path.stat().st_size,
        "xlsx_bytes": xlsx_path.stat().st_size,
    }


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        print(json.dumps(asyncio.run(measure(rows, Path(directory)))))


if __name__ == "__main__":
    main()
