"""A dunning run over the portfolio (issue 14: 20,000 customers / 1,000,000 invoices, ≥ 2,000
customers evaluated per second, every process < 200 MB): the run the accounts worker and RunDunning
perform (claim FOR UPDATE SKIP LOCKED in batches, the books of each batch read in its transaction,
one decision per customer × currency, notices, lines and decisions written one statement per
table), against a bare set-based baseline: one GROUP BY of the chaseable amounts per customer and
currency with asyncpg. Runs in the bench process on its own copy of the portfolio."""

from __future__ import annotations

import dataclasses
import time

import asyncpg

from bench import launch
from bench.data import portfolio as portfolio_data
from bench.data.portfolio import NOW
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from common.settings import DEV_INTERNAL_SECRET, Settings
from services.accounts.server import assemble
from services.accounts.service.dunning_run import run_dunning

TARGET_PER_S = 2_000.0
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


@scenario(
    "dunning_run",
    order=57,
    title="A dunning run over every customer of the portfolio (RunDunning / the daily worker)",
    target=f"≥ {TARGET_PER_S:,.0f} customers evaluated per second",
)
async def dunning_run(env: BenchEnv, result: ScenarioResult) -> None:
    mode = env.mode
    db = await env.pg.create("dunning", "accounts")
    data = await portfolio_data.load(db.dsn, mode.customers, mode.open_invoices)
    result.dataset = data.describe()
    conn = await asyncpg.connect(db.dsn)
    env.on_exit(conn.close)
    settings = Settings(service="accounts", database_url=db.url, listen_addr="127.0.0.1:0",
                        development=True, internal_secret=DEV_INTERNAL_SECRET,
                        log_level="WARNING")  # fmt: skip
    parts = assemble(dataclasses.replace(settings, workers_enabled=False))
    env.on_exit(parts.ctx.db.dispose)
    day = NOW.date()
    customers = data.customers

    async def reset() -> None:
        for statement in RESET:
            await conn.execute(statement)

    async def run(_worker, _seq) -> None:
        summary = await run_dunning(parts.ctx, day)
        if summary.evaluated != customers:
            raise AssertionError(f"evaluated {summary.evaluated} of {customers} customers")

    async def bare(_worker, _seq) -> None:
        await conn.fetch(BARE, day)

    variants = [
        Variant("settle", "run_dunning over every customer (batches of 500), in the bench process",
                run, roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                unit="customer", units_per_op=customers, before_rep=reset),
        Variant("bare-sql", "one GROUP BY of the chaseable amounts per customer × currency "
                "(asyncpg, no decision, nothing written)", bare,
                roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                unit="customer", units_per_op=customers, baseline=True),
    ]  # fmt: skip
    result.settings = {"customers": customers, "batch": 500, "repetitions": mode.reps,
                       "business_date": day.isoformat()}  # fmt: skip
    await reset()
    result.variants = await measure(
        variants,
        Plan(concurrency=1, reps=mode.reps, iterations=1, warmup_iterations=1),
        env.profile_dir,
    )
    result.compute_ratios()
    notices = await conn.fetchval("SELECT count(*) FROM dunning_notices")
    began = time.perf_counter()
    again = await run_dunning(parts.ctx, day, reevaluate=True)
    rerun_s = time.perf_counter() - began
    result.checks["every customer evaluated once"] = (
        await conn.fetchval("SELECT count(*) FROM customers WHERE dunned_on = $1", day)
    ) == customers
    result.checks["a second run sends nothing"] = again.notices == 0
    result.notes.append(
        f"notices: {notices}; re-run the same day (reevaluate): {again.evaluated / rerun_s:,.0f} "
        f"customers/s, skipped: {dict(again.skipped)}"
    )
    ours = result.variant("settle")
    if ours is None or not ours.ok:
        result.fail(f"settle failed: {ours.first_error if ours else 'no variant'}")
        return
    result.judge(
        ours.rate >= TARGET_PER_S,
        f"{ours.rate:,.0f} customers/s (target ≥ {TARGET_PER_S:,.0f})",
    )
