"""The accounts reports over the portfolio dataset (issue 15: DSO, CEI and aging by collector
over 1,000,000 invoices, each < 2 s on PostgreSQL), against their bare SQL in the same run. The
customers are assigned to collectors as for the worklist (bench/scenarios/collections.py), so
aging by collector has one row per collector and currency. One report at a time: latency targets.

Variants: `settle` (RunReport over signed gRPC: SQLAlchemy statements, the figures in Decimal, the
result as protobuf), `asyncpg` (the same statements by hand, no figures, no gRPC: the floor)."""

from __future__ import annotations

import asyncpg

from bench import launch
from bench.baseline import reports_sql
from bench.data.portfolio import AS_OF
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from bench.scenarios.collections import _assign
from bench.scenarios.datasets import portfolio
from settle.accounts.v1.reports_pb2_grpc import AccountsReportsServiceStub
from settle.common.v1 import reports_pb2 as rpb

TARGET_S = 2.0
TIMEOUT_S = 300
QUARTER = (AS_OF.replace(month=1, day=1), AS_OF)  # 2026-01-01 .. 2026-03-31
HISTORY_START = AS_OF.replace(year=AS_OF.year - 3, day=1)  # countback reads 36 months


def _request(report: str) -> rpb.RunReportRequest:
    if report == "aging-by-collector":
        as_of = rpb.RunReportRequest().as_of
        as_of.FromJsonString(f"{AS_OF.isoformat()}T12:00:00Z")
        return rpb.RunReportRequest(report=report, as_of=as_of)
    start, end = QUARTER
    return rpb.RunReportRequest(
        report=report, period_start=start.isoformat(), period_end=end.isoformat()
    )


async def _bare(conn: asyncpg.Connection, report: str):
    start, end = QUARTER
    if report == "dso":
        return await reports_sql.dso(conn, start, end, HISTORY_START)
    if report == "cei":
        return await reports_sql.cei(conn, start, end)
    return await reports_sql.aging_by_collector(conn, AS_OF)


def _total_ar(result: rpb.ReportResult, column: str) -> int:
    table = result.tables[0]
    at = [c.name for c in table.columns].index(column)
    return sum(round(float(row.values[at].string_value) * 100) for row in table.rows)


async def _run(env: BenchEnv, result: ScenarioResult, report: str) -> None:
    db, data = await portfolio(env)
    collectors = await _assign(env, db.dsn, env.mode.customers)
    result.dataset = {**data.describe(), "collectors": collectors}
    settle_proc = await launch.accounts(env, db)
    settle = AccountsReportsServiceStub(launch.signed_channel(env, settle_proc.address))
    pool = await asyncpg.create_pool(db.dsn, min_size=1, max_size=1)
    env.on_exit(pool.close)
    request = _request(report)

    async def direct(_worker, _seq):
        async with pool.acquire() as conn:
            return await _bare(conn, report)

    mine = await settle.RunReport(request, timeout=TIMEOUT_S)
    async with pool.acquire() as conn:
        floor = await _bare(conn, report)
    if report == "aging-by-collector":
        bare_total = sum(row[4] for row in floor)
        result.checks["one row per collector and currency"] = len(mine.tables[0].rows) == len(
            {(row[0], row[2]) for row in floor}
        )
        result.checks["aging total is the bare SQL's"] = _total_ar(mine, "total") == bare_total
    else:
        closing = floor[0] if report == "dso" else floor[1]
        column = "ar" if report == "dso" else "closing_ar"
        result.checks["AR is the bare SQL's"] = _total_ar(mine, column) == sum(
            r[1] for r in closing
        )
    variants = [
        Variant("settle", f"python -m services.accounts: RunReport {report} over signed gRPC",
                lambda w, s: settle.RunReport(request, timeout=TIMEOUT_S),
                roles=launch.roles(env, db, [settle_proc]),
                processes=launch.memory_of([settle_proc]), unit="report"),
        Variant("asyncpg", "the same SQL by hand with asyncpg (no figures, no gRPC)", direct,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                baseline=True, unit="report"),
    ]  # fmt: skip
    reps = env.mode.aging_reps
    result.settings = {"concurrency": 1, "repetitions": reps, "warmup": "1 report"}
    result.variants = await measure(
        variants,
        Plan(concurrency=1, reps=reps, iterations=1, warmup_iterations=1),
        env.profile_dir,
    )
    result.compute_ratios()
    ours = result.variant("settle")
    if ours.ok:
        seconds = ours.p50_ms / 1000
        result.judge(seconds < TARGET_S, f"median {seconds:.2f} s per report (target < 2 s)")
    else:
        result.fail(f"settle failed: {ours.first_error}")


@scenario("report_dso", order=31, title="DSO over a quarter (RunReport dso)",
          target=f"< {TARGET_S:g} s per report on PostgreSQL (median)")  # fmt: skip
async def run_dso(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "dso")


@scenario("report_cei", order=32, title="CEI over a quarter (RunReport cei)",
          target=f"< {TARGET_S:g} s per report on PostgreSQL (median)")  # fmt: skip
async def run_cei(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "cei")


@scenario("report_aging_by_collector", order=33,
          title="Aging by collector as of a date (RunReport aging-by-collector)",
          target=f"< {TARGET_S:g} s per report on PostgreSQL (median)")  # fmt: skip
async def run_aging_by_collector(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "aging-by-collector")
