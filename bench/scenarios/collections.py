"""The collector's day (issue 13): a worklist of 50 for one collector over the portfolio dataset
(≥ 0.7 × the bare statement's rate, p99 < 200 ms at C clients), and the promise evaluator
judging N promises due at once (≥ 2,000 promises/s).

The portfolio's customers are assigned round-robin to collectors of about 500 customers each
(a collector's book; 40 over the full 20,000), so one worklist ranks ~500 customers and their
~25,000 open invoices, read through their per-customer facts summary (built once after the
portfolio is loaded, as migration 0008's backfill builds it for a database in use). The
evaluator runs in the bench process on its own database: the pass the accounts process's worker
runs (claim FOR UPDATE SKIP LOCKED, set-based judgement, one statement per table), repeated
until nothing is due."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import asyncpg

from bench import launch
from bench.baseline import worklist_sql
from bench.data import portfolio as portfolio_data
from bench.data.portfolio import NOW, customer_id
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from bench.scenarios.datasets import portfolio
from common.actor import Actor, reset_actor, set_actor
from common.db import Database
from common.listing import Page
from common.settings import DEV_INTERNAL_SECRET, Settings
from services.accounts.data import customer_facts
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1.accounts_pb2_grpc import AccountsServiceStub

PAGE = 50
FIRST = Page(0, PAGE)
BOOK = 500  # customers per collector
TARGET_RATIO, TARGET_P99_MS, TARGET_JUDGED_PER_S = 0.7, 200.0, 2_000.0
TIMEOUT_S = 30
LEAD = Actor("user:bench-lead", ("team_lead",), "")  # names the collector whose list it reads


def _collector(n: int) -> str:
    return f"user:collector-{n:03d}"


async def _assign(env: BenchEnv, dsn: str, customers: int) -> int:
    """Every customer to a collector, round-robin (once per run); returns the collectors."""
    collectors = max(1, customers // BOOK)

    async def build():
        rows = [
            (customer_id(n), _collector(n % collectors), "BENCH", NOW, "bench")
            for n in range(customers)
        ]
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("DELETE FROM assignments")
            await conn.copy_records_to_table(
                "assignments",
                records=rows,
                columns=("customer_id", "collector", "team", "updated_at", "updated_by"),
            )
            await conn.execute("ANALYZE assignments")
        finally:
            await conn.close()
        return collectors

    return await env.shared("worklist-assignments", build)


async def _facts_summary(env: BenchEnv, db, customers: int) -> None:
    """Every customer's worklist facts, recomputed once by the service's own function: COPY
    loaded the portfolio past the write paths that keep them. As of the service's clock (today)."""

    async def build():
        database = Database.from_url(db.url)
        try:
            async with database.transaction() as session:
                ids = [customer_id(n) for n in range(customers)]
                await customer_facts.refresh(session, ids, datetime.now(UTC).date())
        finally:
            await database.engine.dispose()
        conn = await asyncpg.connect(db.dsn)
        try:
            await conn.execute("VACUUM ANALYZE customer_facts, customer_facts_ahead")
        finally:
            await conn.close()

    await env.shared("worklist-facts", build)


@scenario(
    "worklist",
    order=50,
    title=f"A collector's worklist, first {PAGE} items ranked with their why (ListWorklist)",
    target=f"≥ {TARGET_RATIO} × bare-grpc throughput, p99 < {TARGET_P99_MS:g} ms",
)
async def worklist(env: BenchEnv, result: ScenarioResult) -> None:
    db, data = await portfolio(env)
    collectors = await _assign(env, db.dsn, data.customers)
    await _facts_summary(env, db, data.customers)
    concurrency = env.mode.concurrency
    result.dataset = {**data.describe(), "collectors": collectors, "book": BOOK}
    token = set_actor(LEAD)  # inherited by every client task started below
    env.on_exit(_reset(token))
    traced, bare = await asyncio.gather(launch.accounts(env, db), launch.bare_chain(env, db))
    stubs = {
        "settle": AccountsServiceStub(launch.signed_channel(env, traced.address)),
        "bare-grpc": AccountsServiceStub(launch.bare_channel(env, bare[0].address)),
    }
    pool = await asyncpg.create_pool(db.dsn, min_size=concurrency, max_size=concurrency)
    env.on_exit(pool.close)

    def request(worker: int, seq: int) -> pb.ListWorklistRequest:
        return pb.ListWorklistRequest(
            collector=_collector((worker * 7 + seq) % collectors), page_size=PAGE
        )

    def rpc(stub):
        return lambda w, s: stub.ListWorklist(request(w, s), timeout=TIMEOUT_S)

    async def sql(worker, seq):
        collector = request(worker, seq).collector
        async with pool.acquire() as conn:
            rules = (await worklist_sql.strategy(conn)).rules
            # the service's clock
            return await worklist_sql.ranked(conn, rules, collector, datetime.now(UTC), FIRST)

    samples = [request(w, 0) for w in range(3)]
    mine = [await stubs["settle"].ListWorklist(r) for r in samples]
    theirs = [await stubs["bare-grpc"].ListWorklist(r) for r in samples]
    result.checks["bare-grpc answers byte-for-byte the same"] = mine == theirs
    result.checks[f"a full page of {PAGE}"] = all(len(m.items) == PAGE for m in mine)
    variants = [
        Variant("settle", "python -m services.accounts (OTEL_* unset: its default tracing), "
                "signed gRPC client as a team lead naming the collector", rpc(stubs["settle"]),
                roles=launch.roles(env, db, [traced]), processes=launch.memory_of([traced])),
        Variant("bare-grpc", "bare grpc.aio server, the strategy read by hand and the service's "
                "ranking statements compiled for raw asyncpg, no transaction, the page explained "
                "by the same domain function",
                rpc(stubs["bare-grpc"]), roles=launch.roles(env, db, bare),
                processes=launch.memory_of(bare), baseline=True),
        Variant("asyncpg", "the same statements with asyncpg (no gRPC, no explanation)", sql,
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
    ours = result.variant("settle")
    ratio = result.ratios.get("settle", {}).get("bare-grpc")
    if ratio is None or ours is None or ours.p99_ms is None:
        result.fail(f"no ratio: {ours.first_error if ours else 'no settle variant'}")
        return
    result.judge(
        ratio >= TARGET_RATIO and ours.p99_ms < TARGET_P99_MS,
        f"{ratio:.2f} × bare-grpc (target ≥ {TARGET_RATIO}), p99 {ours.p99_ms:.0f} ms at "
        f"{concurrency} clients (target < {TARGET_P99_MS:g} ms)",
    )


def _reset(token):
    async def reset() -> None:
        reset_actor(token)

    return reset


# --- promise evaluation ------------------------------------------------------------------------
PROMISE_COLUMNS = ("id", "customer_id", "plan_id", "instalment", "currency", "amount_minor",
                   "promised_date", "deadline_at", "state", "paid_minor", "contact_text",
                   "taken_by", "version", "created_at")  # fmt: skip
RESET = (
    "DELETE FROM promise_events",
    "DELETE FROM outbox_events",
    "UPDATE promises SET state = 'OPEN', paid_minor = 0, judged_at = NULL, version = 1",
)


def _invoice_id(n: int) -> str:
    return f"{0x019A0000 + 2:08x}{n:024x}"  # bench/data/portfolio.py's invoice ids


def _promises(count: int, customers: int):
    """One promise of 100.00 per open invoice, taken a day before the portfolio's NOW and due an
    hour after it: all due at once for the evaluator's clock (now). The invoices partly paid at
    NOW count toward theirs (KEPT), the others are BROKEN."""
    taken, due = NOW - timedelta(days=1), NOW + timedelta(hours=1)
    promises, links = [], []
    for n in range(count):
        cust = n % customers
        pid = f"{0x019B0000:08x}{n:024x}"
        currency = "USD" if cust % 7 == 0 else "EUR"
        promises.append((pid, customer_id(cust), pid, 1, currency, 10_000, NOW.date(), due,
                         "OPEN", 0, "", "user:bench", 1, taken))  # fmt: skip
        links.append((pid, _invoice_id(n)))
    return promises, links


@scenario(
    "promise_evaluation",
    order=55,
    title="Promises due at once, judged by the promise evaluator's passes",
    target=f"≥ {TARGET_JUDGED_PER_S:,.0f} promises judged per second",
)
async def promise_evaluation(env: BenchEnv, result: ScenarioResult) -> None:
    mode = env.mode
    count = min(100_000, mode.customers * 5)
    customers = max(10, mode.customers // 10)
    db = await env.pg.create("promises", "accounts")
    data = await portfolio_data.load(db.dsn, customers, count)
    promises, links = _promises(count, customers)
    conn = await asyncpg.connect(db.dsn)
    env.on_exit(conn.close)
    await conn.copy_records_to_table("promises", records=promises, columns=PROMISE_COLUMNS)
    await conn.copy_records_to_table(
        "promise_invoices", records=links, columns=("promise_id", "invoice_id")
    )
    await conn.execute("VACUUM ANALYZE promises, promise_invoices")
    result.dataset = {**data.describe(), "promises_due": count}
    settings = Settings(service="accounts", database_url=db.url, listen_addr="127.0.0.1:0",
                        development=True, internal_secret=DEV_INTERNAL_SECRET,
                        log_level="WARNING")  # fmt: skip
    parts = assemble(dataclasses.replace(settings, workers_enabled=False))
    env.on_exit(parts.ctx.db.dispose)
    evaluator = parts.evaluator

    customer_ids = [r["id"] for r in await conn.fetch("SELECT id FROM customers ORDER BY id")]

    async def reset() -> None:
        for statement in RESET:
            await conn.execute(statement)
        # the promises were copied in (and are re-opened here) behind the worklist facts' back:
        # summed as a promise's creation would, so the evaluator starts from true figures
        async with parts.ctx.db.transaction() as session:
            await customer_facts.refresh(session, customer_ids, parts.ctx.clock.today())

    async def drain(_worker, _seq) -> None:
        judged = 0
        while n := sum((await evaluator.evaluate_once()).judged.values()):
            judged += n
        if judged != count:
            raise AssertionError(f"judged {judged} of {count} due promises")

    variants = [
        Variant("settle", f"PromiseEvaluator.evaluate_once (batch {evaluator.batch}) until "
                "nothing is due, in the bench process", drain,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                unit="promise", units_per_op=count, before_rep=reset),
    ]  # fmt: skip
    result.settings = {"promises_due": count, "batch": evaluator.batch, "repetitions": mode.reps}
    await reset()
    result.variants = await measure(
        variants,
        Plan(concurrency=1, reps=mode.reps, iterations=1, warmup_iterations=1),
        env.profile_dir,
    )
    ours = result.variant("settle")
    states = dict(await conn.fetch("SELECT state, count(*) FROM promises GROUP BY state"))
    result.checks["every due promise judged once"] = sum(states.values()) == count and (
        "OPEN" not in states
    )
    result.notes.append(f"judgements: {states}")
    if ours is None or not ours.ok:
        result.fail(f"settle failed: {ours.first_error if ours else 'no variant'}")
        return
    result.judge(
        ours.rate >= TARGET_JUDGED_PER_S,
        f"{ours.rate:,.0f} promises/s (target ≥ {TARGET_JUDGED_PER_S:,.0f})",
    )
