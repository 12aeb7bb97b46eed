"""A 1,000,000-row report export through the gateway (issue 15: CSV and XLSX with memory
< 200 MB): GET /v1/reports/accounts/open-items:export over HTTP, one row per open invoice of the
portfolio dataset, the body streamed and counted, not kept. Peak memory (VmHWM) of the accounts
and gateway processes is what is judged; the time is set against the bare SQL in the same run
(PostgreSQL's COPY of the same rows as CSV over asyncpg: no figures, no gRPC, no HTTP).

Variants: `settle` (gateway HTTP → accounts ExportReport: keyset pages of 5,000 invoices, each row
formatted and escaped, CSV blocks streamed as written; XLSX spooled by XlsxWriter, then
streamed), `asyncpg` (COPY … TO STDOUT WITH CSV: the floor)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import httpx

from bench import launch
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from bench.scenarios.collections import _assign
from bench.scenarios.datasets import portfolio
from gateway.auth.tokens import mint
from gateway.settings import DEV_AUDIENCE, DEV_ISSUER, DEV_JWT_SECRET, JwtSettings

MEMORY_MB = 200.0
TIMEOUT_S = 1800
# COPY (this) TO STDOUT takes no parameters: today is a date, formatted in
BARE_SELECT = """SELECT i.customer_id, c.display_name, coalesce(a.collector, ''),
           coalesce(a.team, ''), i.external_number, i.invoice_date, i.due_date,
           greatest(0, DATE '{today}' - i.due_date), i.currency, i.open_minor, i.held_minor
    FROM invoices i JOIN customers c ON c.id = i.customer_id
    LEFT JOIN assignments a ON a.customer_id = i.customer_id
    WHERE i.open_minor > 0 ORDER BY i.id"""


class Counted:
    """A sink that counts what passes through it and keeps nothing."""

    def __init__(self):
        self.bytes = self.lines = 0

    def add(self, block: bytes) -> None:
        self.bytes += len(block)
        self.lines += block.count(b"\n")


async def _run(env: BenchEnv, result: ScenarioResult, fmt: str) -> None:
    db, data = await portfolio(env)
    collectors = await _assign(env, db.dsn, env.mode.customers)
    acc_at, gw_at, http_at = launch.address(), launch.address(), launch.address()
    backends = {"accounts": acc_at, "disputes": launch.address(), "escalation": launch.address()}
    acc, gw = await asyncio.gather(
        launch.accounts(env, db, at=acc_at),
        launch.gateway(env, name="gateway", grpc_at=gw_at, http_at=http_at, backends=backends),
    )
    jwt = JwtSettings("HS256", (DEV_JWT_SECRET,), DEV_ISSUER, DEV_AUDIENCE)
    bearer = f"Bearer {mint(jwt, 'bench', ['admin'], ttl_s=6 * 3600)}"
    client = httpx.AsyncClient(base_url=f"http://{http_at}", timeout=TIMEOUT_S)
    env.on_exit(client.aclose)
    conn = await asyncpg.connect(db.dsn)
    env.on_exit(conn.close)
    open_rows = await conn.fetchval("SELECT count(*) FROM invoices WHERE open_minor > 0")
    result.dataset = {**data.describe(), "collectors": collectors, "export_rows": open_rows}
    url = f"/v1/reports/accounts/open-items:export?format=REPORT_FORMAT_{fmt.upper()}"
    last: dict[str, Counted] = {}

    async def export(_worker, _seq):
        counted = Counted()
        async with client.stream("GET", url, headers={"authorization": bearer}) as response:
            response.raise_for_status()
            async for block in response.aiter_raw():
                counted.add(block)
        last["settle"] = counted

    async def bare(_worker, _seq):
        counted = Counted()
        today = datetime.now(UTC).date().isoformat()
        await conn.copy_from_query(
            BARE_SELECT.format(today=today), output=_writer(counted), format="csv", header=True
        )
        last["asyncpg"] = counted

    variants = [
        Variant("settle", f"gateway HTTP → accounts ExportReport open-items as {fmt.upper()}",
                export, roles=launch.roles(env, db, [gw, acc]),
                processes=launch.memory_of([gw, acc]), unit="export"),
        Variant("asyncpg", "COPY of the same rows as CSV with asyncpg (no figures, no gRPC)",
                bare, roles=launch.roles(env, db, []), processes=launch.memory_of([]),
                baseline=True, unit="export"),
    ]  # fmt: skip
    reps = max(1, min(env.mode.aging_reps, 2))
    result.settings = {"concurrency": 1, "repetitions": reps, "warmup": "none", "format": fmt}
    result.variants = await measure(
        variants, Plan(concurrency=1, reps=reps, iterations=1, warmup_iterations=0),
        env.profile_dir,
    )  # fmt: skip
    result.compute_ratios()
    if fmt == "csv" and "settle" in last:
        result.checks["one CSV line per open invoice, plus the header"] = (
            last["settle"].lines == open_rows + 1
        )
        result.checks["the bare COPY has the same lines"] = last["asyncpg"].lines == open_rows + 1
    ours = result.variant("settle")
    if not ours.ok:
        result.fail(f"settle failed: {ours.first_error}")
        return
    peaks = {name: mb for name, mb in ours.peak_rss_mb.items() if name != "client"}
    worst = max(peaks.values())
    shown = ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items())
    result.judge(worst < MEMORY_MB, f"peak RSS {shown} over {open_rows:,} rows "
                 f"(target < {MEMORY_MB:g} MB); median {ours.p50_ms / 1000:.1f} s")  # fmt: skip


def _writer(counted: Counted):
    async def write(block: bytes) -> None:
        counted.add(block)

    return write


@scenario("report_export_csv", order=34,
          title="A 1,000,000-row CSV report export through the gateway (open-items)",
          target=f"service and gateway peak RSS < {MEMORY_MB:g} MB")  # fmt: skip
async def run_csv(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "csv")


@scenario("report_export_xlsx", order=35,
          title="A 1,000,000-row XLSX report export through the gateway (open-items)",
          target=f"service and gateway peak RSS < {MEMORY_MB:g} MB")  # fmt: skip
async def run_xlsx(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "xlsx")
