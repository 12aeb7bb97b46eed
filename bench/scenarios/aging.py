"""Aging report as of a date over the whole portfolio (issue 7: < 2 s for 1,000,000 open invoices
over 20,000 customers on PostgreSQL). One report at a time: it is a latency target."""

from __future__ import annotations

import asyncio

import asyncpg

from bench import launch
from bench.baseline import accounts_sql
from bench.data.portfolio import AS_OF
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from bench.scenarios.datasets import portfolio
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1.accounts_pb2_grpc import AccountsServiceStub

TARGET_S = 2.0
TIMEOUT_S = 300


@scenario(
    "aging_report",
    order=30,
    title="Aging report as of a date, portfolio totals (GetAgingReport)",
    target=f"< {TARGET_S:g} s per report on PostgreSQL (median of the repetitions)",
)
async def run(env: BenchEnv, result: ScenarioResult) -> None:
    db, data = await portfolio(env)
    result.dataset = data.describe()
    settle_proc, bare = await asyncio.gather(launch.accounts(env, db), launch.bare_chain(env, db))
    settle = AccountsServiceStub(launch.signed_channel(env, settle_proc.address))
    bare_stub = AccountsServiceStub(launch.bare_channel(env, bare[0].address))
    pool = await asyncpg.create_pool(db.dsn, min_size=1, max_size=1)
    env.on_exit(pool.close)
    request = pb.GetAgingReportRequest(as_of=AS_OF.isoformat())

    async def direct(_worker, _seq):
        async with pool.acquire() as conn:
            return await accounts_sql.aging_totals(conn, AS_OF)

    mine = await settle.GetAgingReport(request, timeout=TIMEOUT_S)
    result.checks["bare-grpc answers the same report"] = mine == await bare_stub.GetAgingReport(
        request, timeout=TIMEOUT_S
    )
    result.checks["report counts every open invoice"] = data.open_invoices == sum(
        b.invoice_count for row in mine.totals for b in row.buckets
    )
    variants = [
        Variant("settle", "python -m services.accounts: GetAgingReport over signed gRPC",
                lambda w, s: settle.GetAgingReport(request, timeout=TIMEOUT_S),
                roles=launch.roles(env, db, [settle_proc]),
                processes=launch.memory_of([settle_proc]), unit="report"),
        Variant("bare-grpc", "bare grpc.aio server, the same SQL with raw asyncpg",
                lambda w, s: bare_stub.GetAgingReport(request, timeout=TIMEOUT_S),
                roles=launch.roles(env, db, bare), processes=launch.memory_of(bare),
                baseline=True, unit="report"),
        Variant("asyncpg", "the same SQL with asyncpg in one transaction (no gRPC)", direct,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                baseline=True, unit="report"),
    ]  # fmt: skip
    reps = env.mode.aging_reps
    result.settings = {"concurrency": 1, "repetitions": reps, "warmup": "1 report",
                       "tracing": "OTEL_* unset (the service default)"}  # fmt: skip
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
