"""A dunning run over the portfolio (issue 14: 20,000 customers / 1,000,000 invoices, ≥ 2,000
customers evaluated per second, every process < 200 MB): the run the accounts worker and RunDunning
perform (claim FOR UPDATE SKIP LOCKED in batches, the books of each batch read in its transaction,
one decision per customer × currency, notices, lines and decisions written one statement per
table), in the bench process, on two books of the same size:

- **sample-aged**: the portfolio with the open invoices' ages (days past due, negative: not yet
  due) drawn from the open book of the shared AR sample (../shared/data/ar-sample, every Monday
  of 2012–2013: 88 % not yet due, 10 % 1–15 days, 1.4 % 16–30, 0.1 % 31–45). DOMAIN.md gives no
  aging distribution; this is the one real-world book the project has. Measured: the first run
  on it (every customer evaluated, most get a FRIENDLY or REMINDER notice) and the day-to-day run
  of the next business day after it.
- **400-day**: the portfolio as generated (invoices dated evenly over 400 days, none ever chased):
  the first run after migrating a book of unchased old debt, where nearly every customer reaches
  the Legal level (~95 rows written each). A stress figure, not the daily workload: timed once,
  in the notes.

Baselines, asyncpg on the sample-aged book: one GROUP BY of the chaseable amounts (nothing
decided, nothing written), and bench/baseline/dunning_bare.py, the least a first run must do
(claim, read the open invoices, pick each customer × currency's level, write notices, lines and
decisions) without promises, holds' history, pacing, cash or Legal.

The memory target is judged on the deployed process: the same first run through RunDunning in
`python -m services.accounts` (variant settle-service), whose peak RSS the bench reads."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg

from bench import launch
from bench.baseline import dunning_bare
from bench.data import portfolio as portfolio_data
from bench.data.portfolio import NOW
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from common.main import freeze_start_up
from common.settings import DEV_INTERNAL_SECRET, Settings
from services.accounts.server import assemble
from services.accounts.service.dunning_run import run_dunning
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc as pb_grpc

TARGET_PER_S = 2_000.0
MEMORY_MB = 200.0
AR_SAMPLE = (
    Path(__file__).resolve().parents[2].parent
    / "shared" / "data" / "ar-sample" / "WA_Fn-UseC_-Accounts-Receivable.csv"
)  # fmt: skip
RESET = (
    "DELETE FROM dunning_notice_lines",
    "DELETE FROM dunning_notices",
    "DELETE FROM dunning_decisions",
    "DELETE FROM legal_events",
    "DELETE FROM legal_snapshot_lines",
    "DELETE FROM legal_cases",
    "DELETE FROM outbox_events",
    "UPDATE customers SET dunned_on = NULL, credit_hold = false, dunning_block = false",
)
# The bare baseline: what is chaseable per customer × currency and how far past due, set-based.
BARE = """
SELECT customer_id, currency, sum(greatest(open_minor - held_minor, 0)), max($1::date - due_date)
FROM invoices WHERE open_minor > 0 AND due_date <= $1::date + 3
GROUP BY customer_id, currency
"""
# Each open invoice's age drawn from the sample's ages by a hash of its id (deterministic).
REDATE = """
UPDATE invoices SET due_date = $1::date - ($2::int[])[1 + mod(abs(hashtext(id)), $3)],
                    invoice_date = $1::date - ($2::int[])[1 + mod(abs(hashtext(id)), $3)] - 30
WHERE closed_date IS NULL
"""


def sample_ages(path: Path = AR_SAMPLE) -> list[int]:
    """Days past due on D of every invoice open on D (issued ≤ D < settled), for D every Monday
    from 2012-03-05 (the book is two months old) to 2013-12-30, in the shared AR sample."""
    parse = lambda text: datetime.strptime(text, "%m/%d/%Y").date()  # noqa: E731
    with path.open(newline="") as f:
        invoices = [(parse(r["InvoiceDate"]), parse(r["DueDate"]), parse(r["SettledDate"]))
                    for r in csv.DictReader(f)]  # fmt: skip
    ages, day = [], date(2012, 3, 5)
    while day <= date(2013, 12, 30):
        ages += [(day - due).days for issued, due, settled in invoices if issued <= day < settled]
        day += timedelta(days=7)
    return ages


@scenario(
    "dunning_run",
    order=57,
    title="A dunning run over every customer of the portfolio (RunDunning / the daily worker)",
    target=f"≥ {TARGET_PER_S:,.0f} customers evaluated per second (first run, sample-aged book)",
)
async def dunning_run(env: BenchEnv, result: ScenarioResult) -> None:
    mode = env.mode
    day = NOW.date()
    ages = sample_ages()
    books = {}
    for book in ("sample", "aged"):
        db = await env.pg.create(f"dunning_{book}", "accounts")
        data = await portfolio_data.load(db.dsn, mode.customers, mode.open_invoices)
        conn = await asyncpg.connect(db.dsn)
        env.on_exit(conn.close)
        if book == "sample":
            await conn.execute(REDATE, day, ages, len(ages))
            await conn.execute("VACUUM ANALYZE invoices")
        settings = Settings(service="accounts", database_url=db.url, listen_addr="127.0.0.1:0",
                            development=True, internal_secret=DEV_INTERNAL_SECRET,
                            log_level="WARNING")  # fmt: skip
        parts = assemble(dataclasses.replace(settings, workers_enabled=False))
        env.on_exit(parts.ctx.db.dispose)
        books[book] = (db, conn, parts)
    result.dataset = data.describe()
    customers = data.customers
    # The run is the accounts service's code in this process: set up as the service sets itself up
    # (common/main.py), its start-up objects out of the collector's way.
    freeze_start_up()

    def reset(book: str):
        async def run() -> None:
            for statement in RESET:
                await books[book][1].execute(statement)

        return run

    def first_run(book: str):
        async def run(_worker, _seq) -> None:
            summary = await run_dunning(books[book][2].ctx, day)
            if summary.evaluated != customers:
                raise AssertionError(f"evaluated {summary.evaluated} of {customers} customers")

        return run

    async def after_a_first_run() -> None:
        await reset("sample")()
        await run_dunning(books["sample"][2].ctx, day)

    async def next_day(_worker, _seq) -> None:
        summary = await run_dunning(books["sample"][2].ctx, day + timedelta(days=1))
        if summary.evaluated != customers:
            raise AssertionError(f"evaluated {summary.evaluated} of {customers} customers")

    async def bare(_worker, _seq) -> None:
        await books["sample"][1].fetch(BARE, day)

    async def bare_run(_worker, _seq) -> None:
        done = await dunning_bare.run(books["sample"][1], day)
        if done != customers:
            raise AssertionError(f"bare evaluated {done} of {customers} customers")

    # The floor with the service's lanes: as many bare runs side by side, one connection each.
    lanes = [books["sample"][1]]
    for _ in range(1, books["sample"][2].ctx.dunning_lanes):
        lanes.append(await asyncpg.connect(books["sample"][0].dsn))
        env.on_exit(lanes[-1].close)

    async def bare_lanes(_worker, _seq) -> None:
        done = sum(await asyncio.gather(*(dunning_bare.run(conn, day) for conn in lanes)))
        if done != customers:
            raise AssertionError(f"bare lanes evaluated {done} of {customers} customers")

    # The same run in the deployed process (`python -m services.accounts`, RunDunning), for its
    # memory: the bench process holds both books' parts and its own, so its RSS says nothing of
    # the service's.
    service_proc = await launch.accounts(env, books["sample"][0])
    service_stub = pb_grpc.AccountsServiceStub(launch.signed_channel(env, service_proc.address))

    async def first_run_rpc(_worker, _seq) -> None:
        reply = await service_stub.RunDunning(
            pb.RunDunningRequest(business_date=day.isoformat()), timeout=900
        )
        if reply.evaluated_customers != customers:
            raise AssertionError(f"RunDunning evaluated {reply.evaluated_customers} of {customers}")

    def variant(name, description, op, before, baseline=False, procs=()):
        db = books["sample"][0]
        return Variant(name, description, op, roles=launch.roles(env, db, list(procs)),
                       processes=launch.memory_of(list(procs)), unit="customer",
                       units_per_op=customers, before_rep=before, baseline=baseline)  # fmt: skip

    variants = [
        variant("settle", "first run_dunning over every customer, sample-aged book (the service's "
                "batches and lanes)", first_run("sample"), reset("sample")),
        variant("settle-next-day", "run_dunning on the next business day after a first run, "
                "sample-aged book", next_day, after_a_first_run),
        variant("settle-service", "the first run through RunDunning in the accounts process "
                "(python -m services.accounts), sample-aged book", first_run_rpc,
                reset("sample"), procs=[service_proc]),
        variant("bare-run", "asyncpg: claim, read, pick the level, write notices, lines and "
                "decisions (bench/baseline/dunning_bare.py), sample-aged book", bare_run,
                dunning_bare.reset_for(books["sample"][1], RESET), baseline=True),
        variant("bare-lanes", f"bare-run in {len(lanes)} lanes side by side (one connection "
                "each), as the service's run", bare_lanes,
                dunning_bare.reset_for(books["sample"][1], RESET), baseline=True),
        variant("bare-sql", "one GROUP BY of the chaseable amounts per customer × currency "
                "(asyncpg, no decision, nothing written)", bare, None, baseline=True),
    ]  # fmt: skip
    service = books["sample"][2].ctx
    result.settings = {"customers": customers, "batch": service.dunning_batch,
                       "lanes": service.dunning_lanes, "repetitions": mode.reps,
                       "business_date": day.isoformat(), "sample_ages": len(ages)}  # fmt: skip
    result.variants = await measure(
        variants,
        Plan(concurrency=1, reps=mode.reps, iterations=1, warmup_iterations=1),
        env.profile_dir,
    )
    result.compute_ratios()
    for book in ("sample", "aged"):
        _, conn, parts = books[book]
        await reset(book)()
        began = time.perf_counter()
        first = await run_dunning(parts.ctx, day)
        first_s = time.perf_counter() - began
        began = time.perf_counter()
        again = await run_dunning(parts.ctx, day, reevaluate=True)
        rerun_s = time.perf_counter() - began
        result.checks[f"{book}: every customer evaluated once"] = (
            await conn.fetchval("SELECT count(*) FROM customers WHERE dunned_on = $1", day)
        ) == customers
        result.checks[f"{book}: a second run sends nothing"] = again.notices == 0
        lines = await conn.fetchval("SELECT count(*) FROM dunning_notice_lines")
        snapshot = await conn.fetchval("SELECT count(*) FROM legal_snapshot_lines")
        result.notes.append(
            f"{book} book, first run (timed once): {first.evaluated / first_s:,.0f} "
            f"customers/s, {first.notices} notices, {lines} notice lines, "
            f"{snapshot} Legal snapshot lines, skipped {dict(first.skipped)}; re-run the same "
            f"day (reevaluate): {again.evaluated / rerun_s:,.0f} customers/s, skipped "
            f"{dict(again.skipped)}"
        )
    ours = result.variant("settle")
    if ours is None or not ours.ok:
        result.fail(f"settle failed: {ours.first_error if ours else 'no variant'}")
        return
    served = result.variant("settle-service")
    peak = (served.peak_rss_mb or {}).get("accounts", 0.0) if served and served.ok else None
    result.checks["the accounts process stays under 200 MB (RunDunning)"] = (
        peak is not None and 0 < peak < MEMORY_MB
    )
    result.judge(
        ours.rate >= TARGET_PER_S and peak is not None and 0 < peak < MEMORY_MB,
        f"{ours.rate:,.0f} customers/s (target ≥ {TARGET_PER_S:,.0f}); accounts process peak "
        f"{peak if peak is not None else 'not measured'} MB through RunDunning "
        f"(target < {MEMORY_MB:,.0f})",
    )
