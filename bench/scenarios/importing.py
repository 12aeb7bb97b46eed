"""Import open items from CSV through the streaming ImportOpenItems RPC (issue 7: ≥ 5,000 rows/s),
against the same rows written by a bare grpc.aio server and by asyncpg alone (INSERT and COPY).
Each repetition starts from empty tables (TRUNCATE, not timed)."""

from __future__ import annotations

import asyncio

import asyncpg

from bench import launch
from bench.baseline import import_rows
from bench.data import openitems_csv
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1.accounts_pb2_grpc import AccountsServiceStub

TARGET_ROWS_S = 5_000
CHUNK = 64 * 1024
TIMEOUT_S = 900
WARMUP_ROWS = 1_000
CURRENCY = "USD"


def _parts(data: bytes):
    async def parts():
        yield pb.ImportOpenItemsRequest(
            options=pb.ImportOptions(currency_code=CURRENCY, file_name="bench.csv")
        )
        for start in range(0, len(data), CHUNK):
            yield pb.ImportOpenItemsRequest(chunk=data[start : start + CHUNK])

    return parts()


@scenario(
    "import_open_items",
    order=40,
    title="Import open items from CSV (ImportOpenItems, streamed in 64 KiB chunks)",
    target=f"≥ {TARGET_ROWS_S:,} rows/s",
)
async def run(env: BenchEnv, result: ScenarioResult) -> None:
    rows = env.mode.import_rows
    data, warm = openitems_csv.generate(rows), openitems_csv.generate(min(WARMUP_ROWS, rows))
    expected = import_rows.parse(data, CURRENCY)
    result.dataset = {
        "rows": rows,
        "bytes": len(data),
        "customers": len(expected["customers"]),
        "settled_rows": len(expected["payments"]),
        "layout": "ColumnMapping.sample_file() (IBM AR sample)",
    }
    db = await env.pg.create("import", "accounts")
    settle_proc, bare = await asyncio.gather(launch.accounts(env, db), launch.bare_chain(env, db))
    settle = AccountsServiceStub(launch.signed_channel(env, settle_proc.address))
    bare_stub = AccountsServiceStub(launch.bare_channel(env, bare[0].address))
    conn = await asyncpg.connect(db.dsn)
    env.on_exit(conn.close)

    def upload(stub):
        async def op(_worker, _seq):
            _check(await stub.ImportOpenItems(_parts(data), timeout=TIMEOUT_S), expected)

        return op

    async def inserts(_w, _s):
        await import_rows.write_inserts(conn, import_rows.parse(data, CURRENCY))

    async def copy(_w, _s):
        await import_rows.write_copy(conn, import_rows.parse(data, CURRENCY))

    async def warm_direct(_w, _s):
        await import_rows.write_inserts(conn, import_rows.parse(warm, CURRENCY))

    def warm_rpc(stub):
        return lambda w, s: stub.ImportOpenItems(_parts(warm), timeout=TIMEOUT_S)

    async def empty():
        await import_rows.empty_tables(conn)

    both = dict(unit="row", units_per_op=rows, before_rep=empty)
    variants = [
        Variant("settle", "python -m services.accounts: ImportOpenItems (validate the whole "
                "file, then chunked transactions of 1,000 rows)", upload(settle),
                roles=launch.roles(env, db, [settle_proc]),
                processes=launch.memory_of([settle_proc]), warmup_op=warm_rpc(settle), **both),
        Variant("bare-grpc", "bare grpc.aio server: csv module + INSERT executemany, one "
                "transaction", upload(bare_stub), roles=launch.roles(env, db, bare),
                processes=launch.memory_of(bare), baseline=True, warmup_op=warm_rpc(bare_stub),
                **both),
        Variant("asyncpg", "csv module + asyncpg INSERT executemany, one transaction (no gRPC)",
                inserts, roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                baseline=True, warmup_op=warm_direct, **both),
        Variant("asyncpg-copy", "csv module + asyncpg COPY, one transaction (no gRPC)", copy,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]), baseline=True,
                warmup_op=warm_direct, **both),
    ]  # fmt: skip
    reps = env.mode.import_reps
    result.settings = {"concurrency": 1, "repetitions": reps,
                       "warmup": f"one import of {min(WARMUP_ROWS, rows):,} rows"}  # fmt: skip
    result.variants = await measure(
        variants,
        Plan(concurrency=1, reps=reps, iterations=1, warmup_iterations=1),
        env.profile_dir,
    )
    result.compute_ratios()
    ours = result.variant("settle")
    if not ours.ok:
        result.fail(f"settle failed: {ours.first_error}")
        return
    result.judge(ours.rate >= TARGET_ROWS_S, f"{ours.rate:,.0f} rows/s (target ≥ 5,000)")


def _check(report: pb.ImportReport, expected: dict[str, list]) -> None:
    got = (
        report.imported,
        report.customers_created,
        report.payments_recorded,
        len(report.rejected),
    )
    want = (len(expected["invoices"]), len(expected["customers"]), len(expected["payments"]), 0)
    if got != want:
        raise AssertionError(f"import report {got} != expected {want}")
