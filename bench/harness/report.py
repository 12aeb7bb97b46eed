"""The printed table: per scenario its verdict, then one row per variant (Settle and baselines)."""

from __future__ import annotations

from bench.harness.results import ScenarioResult

STATUS_MARK = {"ok": "ok", "target missed": "MISSED", "not yet available": "n/a", "failed": "FAIL",
               "inconclusive": "??"}  # fmt: skip


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _cpu(cpu: dict[str, float]) -> str:
    return " · ".join(f"{role} {value:.3g}" for role, value in cpu.items()) or "—"


def header(meta: dict) -> str:
    m, c, pg = meta["machine"], meta["commit"], meta["postgres"]
    dirty = " + uncommitted changes" if c["tracked_changes"] else ""
    return (
        f"Settle benchmarks · mode {meta['mode']} · commit {c['sha']}{dirty}"
        f" · {meta['started_at']}\n"
        f"{m['cpu']} · {m['usable_cpus']} CPUs · {m['memory_gib']} GiB · PostgreSQL "
        f"{pg['version']} · Python {m['python']} · load average at start "
        f"{', '.join(map(str, m['load_average_at_start']))}"
    )


def scenario_block(r: ScenarioResult) -> str:
    lines = [f"[{STATUS_MARK.get(r.status, r.status)}] {r.name} — {r.title}",
             f"     target {r.target} → {r.verdict or r.status}"]  # fmt: skip
    if r.dataset and r.name != "memory":
        lines.append(f"     dataset {_compact(r.dataset)}")
    if r.name == "memory":
        lines += [f"     {k}: {mb:.0f} MB" for k, mb in r.dataset.items()]
    if r.settings:
        lines.append(f"     settings {_compact(r.settings)}")
    for name, ok in r.checks.items():
        lines.append(f"     check: {name}: {'yes' if ok else 'NO'}")
    if r.variants:
        unit = r.variants[0].unit
        lines.append(
            f"     {'variant':<16} {'rate':>16} {'p50 ms':>10} {'p99 ms':>10}  "
            f"{'CPU ms per ' + unit + ' (per process)':<52} peak RSS MB"
        )
    for v in r.variants:
        rate = f"{_num(v.rate)} {v.unit}/s" if v.rate is not None else f"FAILED ({v.errors} errors)"
        memory = " · ".join(f"{k} {mb:.0f}" for k, mb in v.peak_rss_mb.items())
        lines.append(
            f"     {v.name:<16} {rate:>16} {_num(v.p50_ms):>10} {_num(v.p99_ms):>10}  "
            f"{_cpu(v.cpu_ms_per_unit):<52} {memory}"
        )
        if r.ratios.get(v.name):
            ratios = " · ".join(f"{x:.2f} × {b}" for b, x in r.ratios[v.name].items())
            lines.append(f"     {'':<16} ↳ {ratios}")
        if v.first_error:
            lines.append(f"     {'':<16} ! {v.first_error}")
    lines += [f"     note: {n}" for n in r.notes]
    return "\n".join(lines)


def _compact(d: dict) -> str:
    return ", ".join(f"{k}={_compact_value(v)}" for k, v in d.items())


def _compact_value(v) -> str:
    if isinstance(v, dict):
        return "{" + _compact(v) + "}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def summary(results: list[ScenarioResult]) -> str:
    width = max(len(r.name) for r in results)
    rows = [f"{'scenario':<{width}}  {'status':<17} verdict"]
    rows += [f"{r.name:<{width}}  {r.status:<17} {r.verdict}" for r in results]
    return "\n".join(rows)


def render(meta: dict, results: list[ScenarioResult]) -> str:
    blocks = [header(meta), *(scenario_block(r) for r in results), summary(results)]
    return "\n\n".join(blocks)
