"""The SLA sweeper (issue 7: ≥ 5,000 events/s, each fired within 1 s of its due time, p99, with
1,000,000 clocks pending and 5,000,000 past events in history) and breach → escalation delivery
under that load (p99 < 3 s). Both read one shared run (sweep_run.py)."""

from __future__ import annotations

from bench.harness.env import BenchEnv
from bench.harness.load import percentile
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult, VariantResult
from bench.scenarios import sweep_run

SWEEP_RATE, LATENESS_MS, DELIVERY_MS = 5_000, 1_000, 3_000


async def _shared(env: BenchEnv) -> sweep_run.SweepRun:
    return await env.shared("sweep_run", lambda: sweep_run.run(env))


def _firing_variant(
    name, description, f: sweep_run.Firing, peaks, baseline, profiles=None
) -> VariantResult:
    missing = f.events - f.fired
    return VariantResult(
        name=name, description=description, baseline=baseline, unit="event",
        rate=f.rate, p50_ms=_r(f.lateness(50)), p99_ms=_r(f.lateness(99)), ops=f.fired,
        errors=missing,
        first_error=f"{missing:,} of {f.events:,} not fired within the wait" if missing else None,
        cpu_ms_per_unit={k: round(v * 1000 / f.fired, 4) for k, v in f.cpu_s.items()}
        if f.fired else {},
        cpu_system_share={}, peak_rss_mb=peaks, profile=profiles or {},
    )  # fmt: skip


def _r(value):
    return round(value, 1) if value is not None else None


@scenario(
    "sweeper_fire",
    order=150,
    title="SLA sweeper: due clock events fired by python -m services.disputes",
    target=f"≥ {SWEEP_RATE:,} events/s, each fired within 1 s of its due time (p99)",
    entry_points=("services.disputes", "services.escalation"),
)
async def sweeper_fire(env: BenchEnv, result: ScenarioResult) -> None:
    run = await _shared(env)
    result.dataset = {**run.clocks.describe(), "load_seconds": round(run.load_seconds, 1)}
    result.settings = {
        "schedule": f"{run.clocks.due:,} events due one after another at "
        f"{env.mode.sweep_rate:,.0f}/s (1 in 10 a breach)",
        "latency_column": "lateness: due time → firing seen committed (polled every 100 ms)",
        "service": "sweeper batch 200, outbox relay delivering to python -m services.escalation",
        "baseline": "the same SQL with asyncpg, one transaction per batch of 200, and for "
        "the escalating firings the relay's, RaiseEscalations' and RecordEscalation's statements "
        "set-based beside it, after the services are stopped, on the second due set",
    }
    result.variants = [
        _firing_variant("settle", "python -m services.disputes (sweeper + outbox relay), "
                        "python -m services.escalation receiving", run.settle,
                        {"disputes": run.peak_rss_mb["disputes"]}, False, run.profiles),
        _firing_variant("bare-sweeper", "asyncpg sweeper in the bench process: claim, lock, "
                        "fire in one transaction per batch; escalations' statements beside it",
                        run.bare, {}, True),
    ]  # fmt: skip
    result.compute_ratios()
    s = run.settle
    claim_p99 = percentile(s.claim_lateness_ms, 99)
    if s.setup_overrun_s:
        result.notes.append(f"scheduling overran its lead time by {s.setup_overrun_s:.1f} s")
    escalated, breaches = run.bare_escalated
    result.notes.append(
        f"bare-sweeper: {escalated:,} of its {breaches:,} breaches escalated by the end of its run"
    )
    if claim_p99 is not None:
        result.notes.append(f"claim lateness (the sweeper's own clock) p99 {claim_p99:,.0f} ms")
    p99 = s.lateness(99)
    window = run.clocks.due / env.mode.sweep_rate
    if window < 10:
        result.notes.append(
            f"the schedule lasts {window:.1f} s: too short to prove a sustained "
            f"{SWEEP_RATE:,}/s (full mode: 20 s); judged on lateness"
        )
    # Keeping up with a 5,000/s schedule at p99 < 1 s is sustaining 5,000/s: a slower sweeper
    # falls further behind with every second of the schedule.
    kept_up = s.fired == s.events and p99 is not None and p99 < LATENESS_MS
    result.judge(
        kept_up,
        f"fired {s.fired:,}/{s.events:,} at {s.rate or 0:,.0f} events/s against a "
        f"{env.mode.sweep_rate:,.0f}/s schedule; lateness p99 "
        + (f"{p99:,.0f} ms" if p99 is not None else "—")
        + " (target: keep up, p99 < 1 s)",
    )


@scenario(
    "escalation_delivery",
    order=160,
    title="Breach → escalation in the right queue, under the sweeper load",
    target=f"p99 < {DELIVERY_MS / 1000:g} s end to end",
    entry_points=("services.disputes", "services.escalation"),
)
async def escalation_delivery(env: BenchEnv, result: ScenarioResult) -> None:
    run = await _shared(env)
    d = run.delivery
    result.dataset = {"breaches": d.breaches, "events_fired": run.settle.fired}
    result.settings = {
        "path": "sweeper fires → outbox → relay → EscalationService.RaiseEscalation → routed",
        "latency_column": "breach due time → escalation created (escalation service clock)",
        "rate": "breaches escalated per second, from the start of the firing window to the last",
        "wait_cap_s": env.mode.sweep_wait_s,
    }
    missing = d.breaches - d.delivered
    p50, p99 = percentile(d.latency_ms, 50), percentile(d.latency_ms, 99)
    result.variants = [VariantResult(
        name="settle", description="disputes outbox relay → python -m services.escalation",
        baseline=False, unit="escalation",
        rate=d.delivered / d.seconds if d.delivered and d.seconds > 0 else None,
        p50_ms=_r(p50), p99_ms=_r(p99) if not missing else None, ops=d.delivered, errors=missing,
        first_error=f"{missing:,} breaches without an escalation after {d.waited_s:.0f} s"
        if missing else None,
        cpu_ms_per_unit={}, cpu_system_share={},
        peak_rss_mb={"escalation": run.peak_rss_mb["escalation"]},
    )]  # fmt: skip
    result.checks["every delivered breach is in its routed team's queue"] = (
        d.right_team == d.delivered
    )
    result.notes.append(
        f"warnings delivered meanwhile: {d.warnings_delivered:,}; CPU s over the wait: {d.cpu_s}"
    )
    if missing:
        result.judge(False, f"{missing:,} of {d.breaches:,} breaches not escalated within "
                            f"{d.waited_s:.0f} s (p99 > {d.waited_s:.0f} s)")  # fmt: skip
        return
    result.judge(
        p99 is not None and p99 < DELIVERY_MS and d.right_team == d.delivered,
        f"p50 {p50:,.0f} ms, p99 {p99:,.0f} ms over {d.delivered:,} breaches (target p99 < 3 s)",
    )
