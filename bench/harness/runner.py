"""Runs the selected scenarios one after another (each with its own processes, stopped before the
next starts), adds the memory verdict, prints the table and writes the JSON."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import traceback
from contextlib import AsyncExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.config import Mode
from bench.harness import machine, profiling, report
from bench.harness.env import BenchEnv
from bench.harness.pg import Postgres
from bench.harness.registry import NotAvailable, Scenario, ordered
from bench.harness.results import FAILED, UNAVAILABLE, ScenarioResult

MEMORY_LIMIT_MB = 200


async def _run_one(env: BenchEnv, sc: Scenario) -> ScenarioResult:
    result = ScenarioResult(sc.name, sc.title, sc.target)
    missing = sc.missing()
    if missing:
        result.status, result.verdict = UNAVAILABLE, missing
        return result
    print(f"▶ {sc.name}: {sc.title}", flush=True)
    began = time.perf_counter()
    try:
        async with AsyncExitStack() as stack:
            env.stack = stack
            await sc.run(env, result)
    except NotAvailable as exc:
        result.status, result.verdict = UNAVAILABLE, str(exc)
    except Exception as exc:
        traceback.print_exc()
        result.fail(f"{type(exc).__name__}: {str(exc)[:300]}")
    finally:
        env.stack = None
    result.seconds = round(time.perf_counter() - began, 1)
    for v in result.variants:
        result.notes += [profiling.one_line(f"{v.name}/{p}", s) for p, s in v.profile.items()]
    print(f"  {result.status}: {result.verdict} ({result.seconds:.0f} s)", flush=True)
    return result


def memory_verdict(results: list[ScenarioResult]) -> ScenarioResult:
    """Issue 7: every Settle service process stays under 200 MB RSS under these loads."""
    memory = ScenarioResult(
        "memory", "Peak RSS (VmHWM) of each Settle service process, over the loads above",
        f"< {MEMORY_LIMIT_MB} MB per service process",
    )  # fmt: skip
    peaks: dict[str, float] = {}  # "process (scenario)" → MB
    seen: set[tuple[str, float]] = set()
    for r in results:
        for v in r.variants:
            for process, mb in v.peak_rss_mb.items():
                if v.baseline or process == "client" or (process, mb) in seen:
                    continue  # a process measured by several scenarios is listed once
                seen.add((process, mb))
                peaks[f"{process} ({r.name})"] = mb
    memory.dataset = peaks
    if not peaks:
        memory.status, memory.verdict = UNAVAILABLE, "no Settle service process was measured"
        return memory
    worst = max(peaks, key=peaks.get)
    memory.judge(
        peaks[worst] < MEMORY_LIMIT_MB,
        f"highest {peaks[worst]:.0f} MB: {worst}, over {len(peaks)} service processes",
    )
    return memory


def write_json(out_dir: Path, started: datetime, meta: dict, results) -> Path:
    """bench/results/<UTC time>-<mode>-<commit>.json: comparable across commits."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{stamp}-{meta['mode']}-{meta['commit']['sha']}.json"
    document = {**meta, "scenarios": [r.to_dict() for r in results]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


async def run(
    mode: Mode, names: list[str] | None, out_dir: Path, profile: bool = False
) -> tuple[list[ScenarioResult], Path]:
    selected = [s for s in ordered() if not names or s.name in names]
    started = datetime.now(UTC)
    pg = await Postgres.connect()
    work_dir = Path(tempfile.mkdtemp(prefix="settle-bench-"))
    if profile and profiling.missing():
        raise SystemExit(profiling.missing())
    env = BenchEnv(mode, pg, work_dir, profile)
    meta = {
        "mode": mode.name,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": machine.commit(),
        "machine": machine.describe(),
        "postgres": await pg.info(),
        "sizes": asdict(mode),
    }
    print(report.header(meta), flush=True)
    results: list[ScenarioResult] = []
    try:
        for sc in selected:
            results.append(await _run_one(env, sc))
            # what has run so far, kept if a long run is stopped (rewritten whole at the end)
            write_json(out_dir, started, {**meta, "partial": True}, results)
    finally:
        await pg.close()  # drops every bench database
    results.append(memory_verdict(results))
    meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    failed = any(r.status == FAILED for r in results)
    if failed or profile:
        meta["work_dir"] = str(work_dir)  # logs and profiles, kept for a look
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    path = write_json(out_dir, started, meta, results)
    print("\n" + report.render(meta, results), flush=True)
    print(f"\nwrote {path} ({meta['seconds']:.0f} s)", flush=True)
    return results, path
