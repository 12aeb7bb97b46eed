"""Datasets shared by several scenarios, built once per run."""

from __future__ import annotations

from bench.data import portfolio as portfolio_data
from bench.harness.env import BenchEnv
from bench.harness.pg import BenchDatabase


async def portfolio(env: BenchEnv) -> tuple[BenchDatabase, portfolio_data.Portfolio]:
    async def build():
        db = await env.pg.create("portfolio", "accounts")
        print(f"  loading portfolio: {env.mode.open_invoices:,} open invoices over "
              f"{env.mode.customers:,} customers …", flush=True)  # fmt: skip
        data = await portfolio_data.load(db.dsn, env.mode.customers, env.mode.open_invoices)
        print(f"  loaded in {data.load_seconds:.1f} s: {data.rows}", flush=True)
        return db, data

    return await env.shared("portfolio", build)
