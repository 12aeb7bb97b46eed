"""Get a customer / list 50 open invoices of a customer (issue 7: ≥ 0.7 × the bare baseline),
at C concurrent clients over the portfolio dataset."""

from __future__ import annotations

import asyncio

import asyncpg

from bench import launch
from bench.baseline import accounts_sql
from bench.data.portfolio import customer_id
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from bench.scenarios.datasets import portfolio
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1.accounts_pb2_grpc import AccountsServiceStub

TARGET_RATIO = 0.7
TIMEOUT_S = 30
PAGE = 50
TARGET = f"≥ {TARGET_RATIO} × bare-grpc throughput"


def _customer(count: int, worker: int, seq: int) -> str:
    return customer_id((worker * 7919 + seq * 104_729) % count)


def _get_request(count, worker, seq) -> pb.GetCustomerRequest:
    return pb.GetCustomerRequest(name=f"customers/{_customer(count, worker, seq)}")


def _list_request(count, worker, seq) -> pb.ListInvoicesRequest:
    name = f"customers/{_customer(count, worker, seq)}"
    return pb.ListInvoicesRequest(
        filter=f"customer={name} AND status=OPEN", order_by="due_date", page_size=PAGE
    )


@scenario(
    "get_customer", order=10, title="Get a customer with its contacts (GetCustomer)", target=TARGET
)
async def get_customer(env: BenchEnv, result: ScenarioResult) -> None:
    async def direct(conn, count, worker, seq):
        return await accounts_sql.get_customer(conn, _customer(count, worker, seq))

    await _run(env, result, "GetCustomer", _get_request, direct)


@scenario(
    "list_invoices",
    order=20,
    title=f"List {PAGE} open invoices of a customer by due date (ListInvoices with filters)",
    target=TARGET,
)
async def list_invoices(env: BenchEnv, result: ScenarioResult) -> None:
    async def direct(conn, count, worker, seq):
        return await accounts_sql.list_open_invoices(conn, _customer(count, worker, seq), PAGE)

    await _run(env, result, "ListInvoices", _list_request, direct)


async def _run(env: BenchEnv, result: ScenarioResult, method: str, make_request, direct) -> None:
    db, data = await portfolio(env)
    count, concurrency = data.customers, env.mode.concurrency
    result.dataset = data.describe()
    traced, bare = await asyncio.gather(launch.accounts(env, db), launch.bare_chain(env, db))
    stubs = {
        "settle": AccountsServiceStub(launch.signed_channel(env, traced.address)),
        "bare-grpc": AccountsServiceStub(launch.bare_channel(env, bare[0].address)),
    }
    pool = await asyncpg.create_pool(db.dsn, min_size=concurrency, max_size=concurrency)
    env.on_exit(pool.close)

    def rpc(stub):
        call = getattr(stub, method)
        return lambda w, s: call(make_request(count, w, s), timeout=TIMEOUT_S)

    async def sql(worker, seq):
        async with pool.acquire() as conn:
            return await direct(conn, count, worker, seq)

    samples = [make_request(count, w, 0) for w in range(3)]
    same = [await getattr(stubs["settle"], method)(r) for r in samples] == [
        await getattr(stubs["bare-grpc"], method)(r) for r in samples
    ]
    result.checks["bare-grpc answers byte-for-byte the same"] = same
    variants = [
        Variant("settle", "python -m services.accounts (OTEL_* unset: its default tracing), "
                "signed gRPC client", rpc(stubs["settle"]),
                roles=launch.roles(env, db, [traced]), processes=launch.memory_of([traced])),
        Variant("bare-grpc", "bare grpc.aio server (no interceptors), the same SQL with raw "
                "asyncpg, no transaction (as the service)", rpc(stubs["bare-grpc"]),
                roles=launch.roles(env, db, bare), processes=launch.memory_of(bare),
                baseline=True),
        Variant("asyncpg", "the same SQL with asyncpg, no transaction (no gRPC)", sql,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]), baseline=True),
    ]  # fmt: skip
    mode = env.mode
    result.settings = {
        "concurrency": concurrency,
        "repetitions": mode.reps,
        "seconds_per_repetition": mode.duration_s,
        "warmup_s": mode.warmup_s,
    }
    plan = Plan(
        concurrency=concurrency, reps=mode.reps, duration_s=mode.duration_s, warmup_s=mode.warmup_s
    )
    result.variants = await measure(variants, plan, env.profile_dir)
    result.compute_ratios()
    ratio = result.ratios.get("settle", {}).get("bare-grpc")
    if ratio is None:
        result.fail(f"no ratio: {result.variant('settle').first_error}")
        return
    result.judge(ratio >= TARGET_RATIO, f"{ratio:.2f} × bare-grpc (target ≥ {TARGET_RATIO})")
