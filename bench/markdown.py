"""`python -m bench.markdown bench/results/<run>.json`: the run as Markdown tables, for the
README's Benchmarks section and docs/benchmarks.md (figures are pasted, never typed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.{digits}f}"


def _cpu(cpu: dict[str, float]) -> str:
    return ", ".join(f"{role} {ms:.3g}" for role, ms in cpu.items()) or "—"


def header(doc: dict) -> str:
    m, c, pg, sizes = doc["machine"], doc["commit"], doc["postgres"], doc["sizes"]
    dirty = " (with uncommitted changes in the tree)" if c["tracked_changes"] else ""
    load = [", ".join(map(str, x or [])) for x in (m["load_average_at_start"],
                                                   doc.get("load_average_at_end"))]  # fmt: skip
    return (
        f"Mode `{doc['mode']}`, commit `{c['sha']}`{dirty}, {doc['started_at']}, "
        f"{doc['seconds']:.0f} s. {m['cpu']}, {m['usable_cpus']} CPUs, {m['memory_gib']} GiB, "
        f"PostgreSQL {pg['version'].split()[0]}, Python {m['python']}; load average "
        f"{load[0]} at start, {load[1]} at end (other work shared the machine). Sizes: "
        f"{sizes['open_invoices']:,} open invoices / {sizes['customers']:,} customers, "
        f"{sizes['import_rows']:,} CSV rows, {sizes['cases']:,} open cases, sweeper "
        f"{sizes['sweep_due']:,} due events with {sizes['sweep_pending']:,} pending clocks and "
        f"{sizes['sweep_history']:,} past events; {sizes['concurrency']} clients, "
        f"{sizes['reps']} × {sizes['duration_s']:g} s repetitions."
    )


def summary(doc: dict) -> str:
    rows = ["| scenario | target | result | verdict |", "|---|---|---|---|"]
    for s in doc["scenarios"]:
        rows.append(f"| {s['name']} | {s['target']} | {s['status']} | {s['verdict']} |")
    return "\n".join(rows)


def variants(doc: dict) -> str:
    rows = [
        "| scenario | variant | rate | p50 ms | p99 ms | vs baselines | CPU ms per unit |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in doc["scenarios"]:
        for v in s["variants"]:
            rate = f"{_num(v['rate'])} {v['unit']}/s" if v["rate"] else f"failed ({v['errors']})"
            ratios = ", ".join(f"{x:.2f} × {b}" for b, x in s["ratios"].get(v["name"], {}).items())
            rows.append(
                f"| {s['name']} | {v['name']} | {rate} | {_num(v['p50_ms'])} | "
                f"{_num(v['p99_ms'])} | {ratios or '—'} | {_cpu(v['cpu_ms_per_unit'])} |"
            )
    return "\n".join(rows)


def main(path: str) -> None:
    doc = json.loads(Path(path).read_text())
    print(header(doc), "", summary(doc), "", variants(doc), sep="\n")


if __name__ == "__main__":
    main(sys.argv[1])
