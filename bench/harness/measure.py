"""Warm-up, then N repetitions of every variant of a scenario, interleaved (and rotated) so that
drift on a shared machine hits the Settle stack and its baselines alike."""

from __future__ import annotations

import asyncio
import os
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.harness import procstat, profiling
from bench.harness.load import LoadRun, Op, closed_loop, percentile
from bench.harness.results import VariantResult

CLIENT = "client"  # the bench process itself: load generator and, for asyncpg, the whole app


@dataclass
class Variant:
    name: str
    description: str
    op: Op
    roles: Callable[[], Awaitable[procstat.Pids]]  # processes doing this variant's work, now
    processes: Callable[[], dict[str, int]]  # process name → pid, for peak memory
    baseline: bool = False
    unit: str = "req"
    units_per_op: float = 1.0
    before_rep: Callable[[], Awaitable[None]] | None = None  # e.g. empty the tables; not timed
    # after the load, inside the CPU window but not the rate's: e.g. let background work the
    # requests caused (outbox deliveries) finish, so its CPU is charged to them
    after_rep: Callable[[], Awaitable[None]] | None = None
    warmup_op: Op | None = None  # a cheaper operation that warms the same paths


@dataclass(frozen=True)
class Plan:
    concurrency: int
    reps: int
    duration_s: float | None = None  # per repetition; or
    iterations: int | None = None  # operations per repetition
    warmup_s: float | None = None
    warmup_iterations: int | None = None


async def _load(op: Op, plan: Plan, *, warmup: bool) -> LoadRun:
    if warmup:
        return await closed_loop(
            op, concurrency=plan.concurrency, duration_s=plan.warmup_s,
            iterations=plan.warmup_iterations,
        )  # fmt: skip
    return await closed_loop(
        op, concurrency=plan.concurrency, duration_s=plan.duration_s, iterations=plan.iterations
    )


class Series:
    """Repetitions of variants gathered over one or more phases. A scenario whose stacks cannot
    all run at once (PostgreSQL connections) starts them anew per repetition and adds each
    phase here, so the machine's drift lands on every stack alike; results are summarised over
    all phases (rates: median of the repetitions; latencies: over every request)."""

    def __init__(self) -> None:
        self.variants: dict[str, Variant] = {}
        self.runs: dict[str, list[LoadRun]] = defaultdict(list)
        # variant → role → [user, system] seconds
        self.cpu: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(lambda: [0.0, 0.0])
        )
        self.peaks: dict[str, dict[str, float]] = defaultdict(dict)  # variant → process → MB
        # variant → per repetition: role → CPU ms per unit, and the machine's idle share
        self.rep_cpu: dict[str, list[dict[str, float]]] = defaultdict(list)
        self.rep_idle: dict[str, list[float]] = defaultdict(list)
        self.broken: set[str] = set()  # failed every warm-up operation: reported, not repeated
        self.profiles: dict[str, dict[str, dict]] = {}

    async def run(
        self, variants: list[Variant], plan: Plan, profile_dir: Path | None = None
    ) -> None:
        """Warm-up, then `plan.reps` interleaved repetitions of these variants; with
        `profile_dir`, each Settle variant then runs one more (unmeasured) repetition under
        py-spy."""
        for v in variants:
            self.variants[v.name] = v
            if plan.warmup_s or plan.warmup_iterations:
                if v.before_rep:
                    await v.before_rep()
                warm = await _load(v.warmup_op or v.op, plan, warmup=True)
                if v.after_rep:
                    await v.after_rep()
                if warm.errors and not warm.latencies_s:
                    self.broken.add(v.name)
                    self.runs[v.name].append(warm)
        for rep in range(plan.reps):
            shift = rep % len(variants)
            for v in variants[shift:] + variants[:shift]:
                if v.name not in self.broken:
                    await self._repeat(v, plan)
        for v in variants:  # before the phase's processes stop
            for name, mb in _peaks(v).items():
                self.peaks[v.name][name] = max(mb, self.peaks[v.name].get(name, 0.0))
        if profile_dir is not None:
            for v in variants:
                if not v.baseline and v.name not in self.broken:
                    self.profiles[v.name] = await _profile(v, plan, profile_dir)

    async def _repeat(self, v: Variant, plan: Plan) -> None:
        if v.before_rep:
            await v.before_rep()
        machine = procstat.machine_ticks()
        async with procstat.CpuTracker(v.roles) as tracker:
            run = await _load(v.op, plan, warmup=False)
            if v.after_rep:
                await v.after_rep()
        idle = procstat.idle_share(machine, procstat.machine_ticks())
        used, units = tracker.used(), run.ops * v.units_per_op
        per_unit = {role: round((u + s) * 1000 / units, 4) for role, (u, s) in used.items()}
        self.rep_cpu[v.name].append(per_unit if units else {})
        self.rep_idle[v.name].append(round(idle, 3))
        for role, (user, system) in used.items():
            self.cpu[v.name][role][0] += user
            self.cpu[v.name][role][1] += system
        self.runs[v.name].append(run)

    def results(self) -> list[VariantResult]:
        results = []
        for name, v in self.variants.items():
            result = _summarise(v, self.runs[name], self.cpu[name], self.peaks[name])
            result.profile = self.profiles.get(name, {})
            result.rep_cpu_ms_per_unit = self.rep_cpu[name]
            result.rep_machine_idle = self.rep_idle[name]
            results.append(result)
        return results


async def measure(
    variants: list[Variant], plan: Plan, profile_dir: Path | None = None
) -> list[VariantResult]:
    """One phase: returns one result per variant (see `Series.run`)."""
    series = Series()
    await series.run(variants, plan, profile_dir)
    return series.results()


async def _profile(v: Variant, plan: Plan, out_dir: Path) -> dict[str, dict]:
    targets = {name: pid for name, pid in v.processes().items() if name != CLIENT}
    if v.before_rep:
        await v.before_rep()
    recordings = {
        name: profiling.Recording(pid, out_dir / f"{v.name}-{name}-{pid}.collapsed")
        for name, pid in targets.items()
    }
    await asyncio.sleep(0.5)  # py-spy attaches
    await _load(v.op, plan, warmup=False)
    for recording in recordings.values():
        await recording.stop()
    return {name: profiling.summarise(r.out) for name, r in recordings.items()}


def _peaks(v: Variant) -> dict[str, float]:
    peaks = {}
    for name, pid in v.processes().items():
        memory = procstat.memory_mb(pid)
        if memory:
            peaks[name] = round(memory["peak"], 1)
    return peaks


def _summarise(
    v: Variant, runs: list[LoadRun], cpu: dict[str, list[float]], peaks: dict[str, float]
) -> VariantResult:
    latencies = [x for r in runs for x in r.latencies_s]
    ops = sum(r.ops for r in runs)
    errors = sum(r.errors for r in runs)
    rates = [r.ops * v.units_per_op / r.wall_s for r in runs if r.ops and not r.errors]
    units = ops * v.units_per_op
    ms = lambda s: round(s * 1000, 3) if s is not None else None  # noqa: E731
    return VariantResult(
        name=v.name,
        description=v.description,
        baseline=v.baseline,
        unit=v.unit,
        rate=statistics.median(rates) if rates and not errors else None,
        p50_ms=ms(percentile(latencies, 50)),
        p99_ms=ms(percentile(latencies, 99)),
        ops=ops,
        errors=errors,
        first_error=next((r.first_error for r in runs if r.first_error), None),
        cpu_ms_per_unit={role: round(sum(us) * 1000 / units, 4) for role, us in cpu.items()}
        if units
        else {},
        cpu_system_share={role: round(us[1] / sum(us), 2) for role, us in cpu.items() if sum(us)},
        peak_rss_mb=peaks,
        rep_rates=[round(r, 2) for r in rates],
    )


def client_pid() -> int:
    return os.getpid()
