"""Closed-loop load: C asyncio clients, each sending its next request as soon as the previous one
answered. Throughput is what the system sustains at that concurrency; latency is per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# op(worker, seq): one operation; worker in [0, C), seq counts that worker's operations
Op = Callable[[int, int], Awaitable[object]]


@dataclass
class LoadRun:
    ops: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    first_error: str | None = None

    def note_error(self, exc: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            details = exc.details() if hasattr(exc, "details") else str(exc)
            self.first_error = f"{type(exc).__name__}: {details}"[:500]


async def closed_loop(
    op: Op,
    *,
    concurrency: int,
    duration_s: float | None = None,
    iterations: int | None = None,
) -> LoadRun:
    """Runs for `duration_s`, or until `iterations` operations (in total) have started."""
    if (duration_s is None) == (iterations is None):
        raise ValueError("give exactly one of duration_s and iterations")
    run = LoadRun()
    started = 0
    clock = time.perf_counter
    begin = clock()
    deadline = begin + duration_s if duration_s is not None else float("inf")

    def may_start() -> bool:
        nonlocal started
        if clock() >= deadline or (iterations is not None and started >= iterations):
            return False
        started += 1
        return True

    async def worker(index: int) -> None:
        seq = 0
        while may_start():
            t0 = clock()
            try:
                await op(index, seq)
            except Exception as exc:  # counted and shown; a failing variant never reports a rate
                run.note_error(exc)
            else:
                run.latencies_s.append(clock() - t0)
            seq += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    run.wall_s = clock() - begin
    run.ops = len(run.latencies_s)
    return run


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]) of unsorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]
