"""One run of the SLA sweeper at scale, shared by the sweeper and escalation-delivery scenarios:
`python -m services.disputes` (sweeper + outbox relay) and `python -m services.escalation` over the
generated clocks; due set 0 comes due at the scheduled rate and is fired by the service, then (the
services stopped) due set 1 by the bare asyncpg sweeper and its escalations' statements. Firing
time is when the bench first sees an event's history row committed (polled every 100 ms), not the
claim time the service stamps."""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from bench import launch
from bench.baseline import sweeper as bare_sweeper
from bench.data import clocks
from bench.harness import processes, procstat, profiling
from bench.harness.env import BenchEnv
from bench.harness.load import percentile

POLL_S = 0.1
RESCAN_S = 2.0  # longer than any firing transaction takes to commit


@dataclass
class Firing:
    """How one due set was fired."""

    events: int
    fired: int = 0
    seconds: float = 0.0  # from the first due time to the last firing seen
    lateness_ms: list[float] = field(default_factory=list)  # committed − due
    claim_lateness_ms: list[float] = field(default_factory=list)  # the sweeper's clock − due
    cpu_s: dict[str, float] = field(default_factory=dict)
    setup_overrun_s: float = 0.0  # >0: scheduling took longer than the lead time

    @property
    def rate(self) -> float | None:
        return self.fired / self.seconds if self.fired and self.seconds > 0 else None

    def lateness(self, q: float) -> float | None:
        return percentile(self.lateness_ms, q)


@dataclass
class Delivery:
    breaches: int
    delivered: int = 0
    latency_ms: list[float] = field(default_factory=list)  # escalation created − breach due
    right_team: int = 0
    warnings_delivered: int = 0
    waited_s: float = 0.0  # waited for escalations after the firing window
    seconds: float = 0.0  # from the schedule's start to the last escalation created
    cpu_s: dict[str, float] = field(default_factory=dict)


@dataclass
class SweepRun:
    clocks: clocks.ClockSet
    load_seconds: float
    settle: Firing
    bare: Firing
    delivery: Delivery
    peak_rss_mb: dict[str, float]
    profiles: dict[str, dict]  # process → profiling.summarise(), with --profile
    bare_escalated: tuple[int, int] = (0, 0)  # (escalations, breaches) of the baseline's set


async def _watch(conn, due: dict, last_id: int, deadline: float) -> dict[str, datetime]:
    """Case id → when its firing's history row was first seen committed.

    History ids are taken when a row is inserted, not when it commits: a sweeper pass's rows can
    commit after a later id of a concurrent transaction (RecordEscalation's entry, say). So each
    poll reads again from the highest id seen RESCAN_S ago, not from the highest id seen."""
    seen: dict[str, datetime] = {}
    marks: deque[tuple[float, int]] = deque([(time.monotonic(), last_id)])
    while len(seen) < len(due) and time.monotonic() < deadline:
        while len(marks) > 1 and marks[1][0] <= time.monotonic() - RESCAN_S:
            marks.popleft()
        rows = await conn.fetch(
            "SELECT id, dispute_id FROM dispute_history WHERE id > $1 ORDER BY id", marks[0][1]
        )
        now = datetime.now(UTC)
        for row in rows:
            last_id = row["id"]
            if row["dispute_id"] in due:
                seen.setdefault(row["dispute_id"], now)
        marks.append((time.monotonic(), last_id))
        await asyncio.sleep(POLL_S)
    return seen


async def _fire(env, conn, cs, which: int, roles) -> tuple[Firing, dict]:
    """Schedules due set `which`, waits until it is fired (or the wait runs out), measures."""
    mode = env.mode
    lead = 5.0 + cs.due / 4_000  # scheduling writes 3 milestones and a clock per due event
    start = datetime.now(UTC) + timedelta(seconds=lead)
    last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM dispute_history")
    due = await clocks.schedule(conn, cs, which, start, mode.sweep_rate)
    firing = Firing(cs.due)
    firing.setup_overrun_s = max(0.0, (datetime.now(UTC) - start).total_seconds())
    await asyncio.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()))
    window = cs.due / mode.sweep_rate
    async with procstat.CpuTracker(roles, interval_s=0.5) as tracker:
        seen = await _watch(conn, due, last_id, time.monotonic() + window + mode.sweep_wait_s)
    used = tracker.used()
    firing.cpu_s = {role: round(u + s, 2) for role, (u, s) in used.items()}
    firing.fired = len(seen)
    if seen:
        firing.seconds = (max(seen.values()) - start).total_seconds()
    firing.lateness_ms = [(at - due[c][0]).total_seconds() * 1000 for c, at in seen.items()]
    lo, hi = cs.due_range(which)
    claims = await conn.fetch(
        "SELECT dispute_id, fired_at FROM clock_milestones WHERE dispute_id BETWEEN $1 AND $2 "
        "AND fired_at >= $3", clocks.case_id(lo), clocks.case_id(hi - 1), start,
    )  # fmt: skip
    firing.claim_lateness_ms = [
        (r["fired_at"] - due[r["dispute_id"]][0]).total_seconds() * 1000 for r in claims
    ]
    return firing, due


async def _deliveries(env, esc_conn, due: dict, roles, started: datetime) -> Delivery:
    """Waits for the escalations of set 0's breaches; latency = created − the breach's due."""
    breach_ids = {_breach_milestone(c): c for c, (_, name) in due.items() if name == "BREACH"}
    delivery = Delivery(len(breach_ids))
    began = time.monotonic()
    query = "SELECT trigger_event_id, created_at, team FROM escalations WHERE trigger_event_id = ANY($1::varchar[])"  # noqa: E501
    rows = []
    async with procstat.CpuTracker(roles, interval_s=0.5) as tracker:
        while time.monotonic() - began < env.mode.sweep_wait_s:
            rows = await esc_conn.fetch(query, list(breach_ids))
            if len(rows) >= len(breach_ids):
                break
            await asyncio.sleep(0.25)
    delivery.waited_s = round(time.monotonic() - began, 1)
    used = tracker.used()
    delivery.cpu_s = {role: round(u + s, 2) for role, (u, s) in used.items()}
    delivery.delivered = len(rows)
    if rows:
        delivery.seconds = (max(r["created_at"] for r in rows) - started).total_seconds()
    for row in rows:
        case = breach_ids[row["trigger_event_id"]]
        delivery.latency_ms.append((row["created_at"] - due[case][0]).total_seconds() * 1000)
        expected = "SALES" if _case_number(case) % 2 == 0 else "TEAM_LEAD"  # PRICING / QUALITY
        delivery.right_team += row["team"] == expected
    delivery.warnings_delivered = await esc_conn.fetchval(
        "SELECT count(*) FROM escalations WHERE reason_code = 'SLA_WARNING' AND created_at >= $1",
        started,
    )
    return delivery


def _case_number(case_id: str) -> int:
    return int(case_id[8:], 16)


def _breach_milestone(case_id: str) -> str:
    n = _case_number(case_id)
    return f"{0x019A0000 + clocks.MILESTONE:08x}{6 * n + 2:024x}"  # acknowledge clock, BREACH


async def run(env: BenchEnv) -> SweepRun:
    mode = env.mode
    cs = clocks.ClockSet(mode.sweep_history, mode.sweep_pending, mode.sweep_due)
    disputes_db = await env.pg.create("clocks", "disputes")
    escalation_db = await env.pg.create("escalation", "escalation")
    print(f"  generating clocks: {cs.history:,} past events, {cs.pending:,} pending clocks …",
          flush=True)  # fmt: skip
    began = time.perf_counter()
    await clocks.load(disputes_db.dsn, cs)
    load_seconds = time.perf_counter() - began
    print(f"  generated in {load_seconds:.0f} s: {cs.rows}", flush=True)
    disputes_addr, escalation_addr = launch.address(), launch.address()
    esc, disp = await asyncio.gather(
        launch.escalation(env, escalation_db, at=escalation_addr, disputes=disputes_addr),
        launch.disputes(env, disputes_db, at=disputes_addr, accounts=launch.address(),
                        escalation=escalation_addr),
    )  # fmt: skip

    async def roles(*procs):
        found = {"client": [os.getpid()], **{p.name: [p.pid] for p in procs}}
        found["postgres"] = [*await env.pg.backend_pids(disputes_db),
                             *await env.pg.backend_pids(escalation_db)]  # fmt: skip
        return found

    conn = await asyncpg.connect(disputes_db.dsn)
    esc_conn = await asyncpg.connect(escalation_db.dsn)
    env.on_exit(conn.close)
    env.on_exit(esc_conn.close)
    started = datetime.now(UTC)
    recordings = _profile(env, disp, esc)
    settle, due = await _fire(env, conn, cs, 0, lambda: roles(disp, esc))
    delivery = await _deliveries(env, esc_conn, due, lambda: roles(disp, esc), started)
    profiles = {}
    for name, recording in recordings.items():
        await recording.stop()
        profiles[name] = profiling.summarise(recording.out)
    peaks = {p.name: round(procstat.memory_mb(p.pid)["peak"], 1) for p in (disp, esc)}
    # The baseline fires set 1 alone, and does its escalations' database work itself.
    await asyncio.gather(processes.stop(disp), processes.stop(esc))
    stop = asyncio.Event()
    task = asyncio.create_task(bare_sweeper.run(disputes_db.dsn, escalation_db.dsn, stop))
    try:
        bare, bare_due = await _fire(env, conn, cs, 1, lambda: roles())
    finally:
        stop.set()
        await task
    breaches = [_breach_milestone(c) for c, (_, name) in bare_due.items() if name == "BREACH"]
    escalated = await esc_conn.fetchval(
        "SELECT count(*) FROM escalations WHERE trigger_event_id = ANY($1::varchar[])", breaches
    )
    return SweepRun(
        cs, load_seconds, settle, bare, delivery, peaks, profiles, (escalated, len(breaches))
    )


def _profile(env: BenchEnv, *procs) -> dict[str, profiling.Recording]:
    """py-spy on the services over the firing and delivery windows (`--profile`)."""
    if env.profile_dir is None:
        return {}
    return {
        p.name: profiling.Recording(p.pid, env.profile_dir / f"sweep-{p.name}-{p.pid}.collapsed")
        for p in procs
    }
