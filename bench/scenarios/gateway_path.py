"""Open a dispute through the gateway over gRPC and HTTP (issue 18: ≥ 0.6 × the bare chain at the
same tracing setting; p99 ≤ 1.5 × the bare chain's p99 at the same setting and concurrency) and
the cost of tracing on that path (sampled-out ≤ 10 % of throughput against off, judged over
paired repetitions; fully sampled reported).
All three read one shared, interleaved run (dispute_path.py)."""

from __future__ import annotations

import statistics

from bench.harness.env import BenchEnv
from bench.harness.registry import scenario
from bench.harness.results import INCONCLUSIVE, ScenarioResult
from bench.scenarios import dispute_path

RATIO, P99_RATIO, SAMPLED_OUT_COST = 0.6, 1.5, 0.10
SPREAD = 0.15  # paired ratios spread wider than this say more about the machine than tracing
PATH = ("gateway", "services.disputes", "services.accounts")


async def _shared(env: BenchEnv) -> dispute_path.PathRun:
    return await env.shared("dispute_path", lambda: dispute_path.run(env))


def _fill(result: ScenarioResult, run: dispute_path.PathRun, names: list[str]) -> None:
    result.dataset, result.settings = run.dataset, run.settings
    result.variants = [run.variants[n] for n in names if n in run.variants]
    result.compute_ratios()
    # a Settle variant is only compared with the bare chain at its own tracing setting
    for mine, against in list(result.ratios.items()):
        setting = mine.rsplit("-", 1)[-1]
        result.ratios[mine] = {b: x for b, x in against.items() if b.endswith(f"-{setting}")}


def _open(transport: str):
    async def run_scenario(env: BenchEnv, result: ScenarioResult) -> None:
        run = await _shared(env)
        names = [f"{who}-{transport}-{s}" for s in ("full", "off") for who in ("settle", "bare")]
        _fill(result, run, names)
        verdicts, met = [], True
        for setting in ("full", "off"):
            ratio = result.ratios.get(f"settle-{transport}-{setting}", {}).get(
                f"bare-{transport}-{setting}"
            )
            if ratio is not None:
                verdicts.append(f"{ratio:.2f} × bare at tracing {setting}")
                met &= ratio >= RATIO
            mine = run.variants.get(f"settle-{transport}-{setting}")
            bare = run.variants.get(f"bare-{transport}-{setting}")
            if mine and bare and mine.p99_ms and bare.p99_ms:
                verdicts.append(f"p99 {mine.p99_ms / bare.p99_ms:.2f} × bare's at {setting}")
                met &= mine.p99_ms <= P99_RATIO * bare.p99_ms
        full = run.variants.get(f"settle-{transport}-full")
        if full is None or not full.ok or not verdicts:
            first = full.first_error if full else "not measured"
            result.fail(f"settle-{transport}-full: {first}")
            return
        verdicts.append(f"p99 {full.p99_ms:,.0f} ms fully traced")
        result.judge(met, "; ".join(verdicts) + f" (targets ≥ {RATIO} ×, p99 ≤ {P99_RATIO} × bare)")

    return run_scenario


scenario(
    "open_dispute_grpc",
    order=110,
    title="Open a dispute through the gateway, gRPC, 16 clients (CreateDispute)",
    target=f"≥ {RATIO} × bare chain at the same tracing setting; p99 ≤ {P99_RATIO} × bare's",
    entry_points=PATH,
)(_open("grpc"))
scenario(
    "open_dispute_http",
    order=120,
    title="Open a dispute through the gateway, HTTP/JSON, 16 clients (POST /v1/disputes)",
    target=f"≥ {RATIO} × bare chain at the same tracing setting; p99 ≤ {P99_RATIO} × bare's",
    entry_points=PATH,
)(_open("http"))


@scenario(
    "tracing_cost",
    order=130,
    title="Tracing cost on the open-dispute path (gRPC): off / sampled-out / full",
    target=f"sampled-out costs ≤ {SAMPLED_OUT_COST:.0%} of throughput against off; full reported",
    entry_points=PATH,
)
async def tracing_cost(env: BenchEnv, result: ScenarioResult) -> None:
    run = await _shared(env)
    _fill(result, run, [f"settle-grpc-{s}" for s in dispute_path.SETTINGS])
    variants = {s: run.variants[f"settle-grpc-{s}"] for s in dispute_path.SETTINGS}
    if not all(v.ok for v in variants.values()):
        result.fail(f"no rate for every setting: { {s: v.rate for s, v in variants.items()} }")
        return
    # Every repetition runs the three settings back to back (rotated), so each repetition gives a
    # paired ratio; the machine's drift between repetitions cancels out of it.
    out = _paired(variants["sampled-out"], variants["off"])
    full = _paired(variants["full"], variants["off"])
    cpu = {s: _settle_cpu(v) for s, v in variants.items()}
    extra = lambda s: f"{cpu[s] / cpu['off'] - 1:+.0%}" if cpu[s] and cpu["off"] else "—"  # noqa: E731
    out_cost = 1 - statistics.median(out)
    verdict = (
        f"sampled-out costs {out_cost:.0%} of throughput against off (median of "
        f"{len(out)} paired repetitions; target ≤ {SAMPLED_OUT_COST:.0%}), fully traced "
        f"{1 - statistics.median(full):.0%}; Settle CPU per case: sampled-out "
        f"{extra('sampled-out')}, full {extra('full')}"
    )
    noise = max(out) - min(out) if len(out) > 1 else 0.0
    if noise > SPREAD:
        result.status = INCONCLUSIVE
        result.verdict = f"{verdict}; but the paired ratios spread over {noise:.0%}"
        return
    result.judge(out_cost <= SAMPLED_OUT_COST, verdict)


def _paired(setting, off) -> list[float]:
    """Per repetition, the setting's rate ÷ off's rate in the same repetition."""
    return [a / b for a, b in zip(setting.rep_rates, off.rep_rates, strict=False) if b]


def _settle_cpu(v) -> float:
    """CPU ms per case of the Settle processes and PostgreSQL (not the load generator)."""
    return sum(ms for role, ms in v.cpu_ms_per_unit.items() if role != "client")
