"""python -m tools.chaos [--short | --long] [--seed N]: see docs/chaos.md."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tools.chaos import audit as auditor
from tools.chaos import workload
from tools.chaos.checks import violations
from tools.chaos.pgcluster import PgCluster
from tools.chaos.system import PROCESSES, System

# mode: (seconds of faults, clients, seconds between kills, seconds between PostgreSQL restarts)
MODES = {"short": (90, 4, (3, 7), 25), "long": (600, 6, (3, 7), 50)}
QUIESCE_TIMEOUT_S = 120


async def faults(system: System, rng: random.Random, stop_at: float, kill_gap, pg_gap, tally):
    next_restart = time.monotonic() + pg_gap
    while time.monotonic() < stop_at:
        await asyncio.sleep(rng.uniform(*kill_gap))
        if time.monotonic() >= stop_at:
            break
        if time.monotonic() >= next_restart:
            await asyncio.to_thread(system.cluster.restart, "immediate")
            tally["postgres restarts"] += 1
            next_restart += pg_gap
            continue
        victim = rng.choice(PROCESSES)
        system.kill(victim)
        tally[f"kill {victim}"] += 1
        await system.start(victim)


async def quiesce(system: System) -> str | None:
    """Until no milestone of a running clock is still to come and every outbox is drained."""
    deadline = time.monotonic() + QUIESCE_TIMEOUT_S
    while time.monotonic() < deadline:
        due = await auditor.latest_due(system)
        state = await auditor.outbox_state(system)
        if (due is None or due < datetime.now(UTC)) and not any(p for p, _, _ in state.values()):
            await asyncio.sleep(1)  # one more sweep: a firing may just have been written
            if not any(p for p, _, _ in (await auditor.outbox_state(system)).values()):
                return None
        await asyncio.sleep(0.5)
    return f"not quiescent after {QUIESCE_TIMEOUT_S} s"


async def run(mode: str, seed: int) -> int:
    seconds, clients, kill_gap, pg_gap = MODES[mode]
    rng = random.Random(seed)
    cluster = await asyncio.to_thread(PgCluster.create)
    work = Path(tempfile.mkdtemp(prefix="settle-chaos-"))
    system = System(cluster, work)
    faults_done: Counter = Counter()
    tally = workload.Tally()
    started = time.monotonic()
    try:
        await asyncio.to_thread(cluster.start)
        await system.create_databases()
        await system.start_all()
        print(f"chaos {mode}, seed {seed}: PostgreSQL on 127.0.0.1:{cluster.port}, logs {work}")
        tokens = {r: workload.token(r, f"chaos-{r}") for r in ("team_lead", "collector", "admin")}
        async with httpx.AsyncClient(base_url=system.http, timeout=15) as client:
            await workload.sla_policies(client, tokens["admin"])
            stop_at = time.monotonic() + seconds
            operators = [
                workload.Operator(client, tally, random.Random(rng.getrandbits(64)), tokens)
                for _ in range(clients)
            ]
            await asyncio.gather(
                faults(system, rng, stop_at, kill_gap, pg_gap, faults_done),
                *(workload.drive(o, stop_at) for o in operators),
            )
        not_quiet = await quiesce(system)
        audit = await auditor.read(system, tally.acknowledged, tally.server_errors)
    finally:
        await system.stop_all()
        await asyncio.to_thread(cluster.destroy)
    found = violations(audit) + ([not_quiet] if not_quiet else [])
    found += [
        f"abandoned after {workload.CALL_BUDGET_S} s of retries: {c}" for c in tally.abandoned
    ]
    _report(tally, faults_done, audit, time.monotonic() - started)
    for line in found[:50]:
        print(f"  VIOLATION {line}")
    print(f"{len(found)} violation(s)")
    return 1 if found else 0


def _report(tally, faults_done, audit, took: float) -> None:
    lateness = sorted(audit.lateness_ms)
    latest = lateness[-1] if lateness else 0
    pct = lambda q: lateness[min(len(lateness) - 1, int(q * len(lateness)))] if lateness else 0  # noqa: E731
    print(f"took {took:.0f} s")
    print(f"operations {sum(tally.operations.values())}: {dict(tally.operations)}; "
          f"retries {tally.retries}")  # fmt: skip
    print(f"faults: {dict(sorted(faults_done.items()))}")
    print(f"events delivered per producer: {audit.delivered}")
    print(f"milestones fired {sum(audit.firings.values())} (of {len(audit.clocks)} short clocks), "
          f"escalations raised by them {sum(audit.escalations_recorded.values())}, lateness "
          f"p50 {pct(0.5)} ms, p99 {pct(0.99)} ms, max {latest} ms")  # fmt: skip
    print(f"disputed items {len(audit.items)}, holds {len(audit.holds)}, "
          f"credits {len(audit.credits)}, write-offs {len(audit.write_offs)}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.chaos", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--short", dest="mode", action="store_const", const="short")
    group.add_argument("--long", dest="mode", action="store_const", const="long")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return asyncio.run(run(args.mode or "short", args.seed))


if __name__ == "__main__":
    sys.exit(main())
