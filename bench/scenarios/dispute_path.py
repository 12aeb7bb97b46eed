"""Opening disputes through the gateway, shared by the open-dispute and tracing-cost scenarios.

Per tracing setting a Settle stack (`python -m gateway`, `services.disputes`, `services.accounts`)
and, where compared, a bare chain with the same hops (bare front → bare disputes → bare accounts)
run over the portfolio's accounts data, one stack at a time, started anew for every repetition
with the settings rotated, so the machine's drift lands on every stack alike. Each request opens
a case on an invoice nobody disputed yet. Settle's variants wait for their outbox (the holds
placed in accounts) to drain inside the CPU window, so CPU per case includes placing its hold."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace

import asyncpg
import httpx

from bench import launch
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Series, Variant
from bench.harness.results import VariantResult
from bench.scenarios.datasets import portfolio
from gateway.auth.tokens import mint
from gateway.settings import DEV_AUDIENCE, DEV_ISSUER, DEV_JWT_SECRET, JwtSettings
from settle.disputes.v1 import disputes_pb2 as dpb
from settle.disputes.v1.disputes_pb2_grpc import DisputesServiceStub

TIMEOUT_S = 10
SETTINGS = ("off", "sampled-out", "full")
PENDING = "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL AND dead_at IS NULL"


def tracing_env(setting: str, sink: str) -> dict[str, str]:
    """The standard OTEL_* variables for each setting, identical for Settle and bare."""
    quiet = {"OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
    if setting == "off":
        return {**quiet, "OTEL_SDK_DISABLED": "true"}
    ratio = "0" if setting == "sampled-out" else "1"
    return {
        **quiet,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{sink}",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": ratio,
    }


@dataclass
class PathRun:
    variants: dict[str, VariantResult]
    dataset: dict
    settings: dict


class Invoices:
    """Open, unheld invoices of the portfolio, each handed out once."""

    def __init__(self, rows):
        self.rows, self.next = rows, 0

    def take(self) -> tuple[str, str]:
        if self.next >= len(self.rows):
            raise RuntimeError("the portfolio has no undisputed invoice left")
        row = self.rows[self.next]
        self.next += 1
        return row["id"], row["customer_id"]


def _dispute(invoices: Invoices) -> dpb.Dispute:
    invoice, customer = invoices.take()
    item = dpb.DisputedItem(invoice=f"invoices/{invoice}")
    return dpb.Dispute(
        customer=f"customers/{customer}", title="Price differs", reason_code="PRICING", items=[item]
    )


def _grpc_op(stub: DisputesServiceStub, invoices: Invoices, metadata):
    async def op(_w, _s):
        request = dpb.CreateDisputeRequest(dispute=_dispute(invoices), request_id=uuid.uuid4().hex)
        return await stub.CreateDispute(request, metadata=metadata, timeout=TIMEOUT_S)

    return op


def _http_op(client: httpx.AsyncClient, invoices: Invoices, headers):
    async def op(_w, _s):
        d = _dispute(invoices)
        body = {
            "customer": d.customer,
            "title": d.title,
            "reasonCode": d.reason_code,
            "items": [{"invoice": d.items[0].invoice}],
        }
        reply = await client.post(
            f"/v1/disputes?requestId={uuid.uuid4().hex}", json=body, headers=headers
        )
        if reply.status_code != 200:
            raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:300]}")

    return op


def _drained(dsn: str):
    """Waits (up to 60 s) until the Settle disputes outbox has nothing left to deliver."""

    async def wait() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not await conn.fetchval(PENDING):
                    return
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    return wait


async def _settle_phase(env, dbs, invoices, setting, otel, bearer, clients) -> list[Variant]:
    accounts_db, disputes_db = dbs
    acc_at, dis_at, gw_at, http_at = (launch.address() for _ in range(4))
    backends = {"accounts": acc_at, "disputes": dis_at, "escalation": launch.address()}
    acc, dis, gw = await asyncio.gather(  # they find each other by address: start together
        launch.accounts(env, accounts_db, name=f"accounts[{setting}]", extra_env=otel, at=acc_at),
        launch.disputes(env, disputes_db, at=dis_at, accounts=acc_at,
                        escalation=backends["escalation"], name=f"disputes[{setting}]",
                        extra_env=otel),
        launch.gateway(env, name=f"gateway[{setting}]", grpc_at=gw_at, http_at=http_at,
                       backends=backends, extra_env=otel),
    )  # fmt: skip
    stack = [gw, dis, acc]
    common = dict(
        roles=launch.roles(env, [accounts_db, disputes_db], stack),
        processes=launch.memory_of(stack),
        after_rep=_drained(disputes_db.dsn),
    )
    stub = DisputesServiceStub(launch.bare_channel(env, gw.address))
    grpc_op = _grpc_op(stub, invoices, (("authorization", bearer),))
    variants = [
        Variant(f"settle-grpc-{setting}", f"gateway gRPC → disputes → accounts, tracing "
                f"{setting}", grpc_op, **common),
    ]  # fmt: skip
    if setting != "sampled-out":
        http_op = _http_op(clients(http_at), invoices, {"authorization": bearer})
        variants.append(Variant(f"settle-http-{setting}", f"gateway HTTP/JSON → disputes → "
                                f"accounts, tracing {setting}", http_op, **common))  # fmt: skip
    return variants


async def _bare_phase(env, dbs, invoices, setting, otel, clients) -> list[Variant]:
    chain, http_at = await launch.bare_dispute_chain(env, *dbs, tag=setting, extra_env=otel)
    common = dict(
        roles=launch.roles(env, list(dbs), chain), processes=launch.memory_of(chain), baseline=True
    )
    stub = DisputesServiceStub(launch.bare_channel(env, chain[0].address))
    return [
        Variant(f"bare-grpc-{setting}", f"bare chain (front → disputes → accounts), gRPC, "
                f"tracing {setting}", _grpc_op(stub, invoices, ()), **common),
        Variant(f"bare-http-{setting}", f"bare chain, HTTP/JSON, tracing {setting}",
                _http_op(clients(http_at), invoices, {}), **common),
    ]  # fmt: skip


async def run(env: BenchEnv) -> PathRun:
    """One phase per stack and repetition (a tracing setting's Settle processes, then its bare
    chain), each stopped before the next starts; the variants of a phase are interleaved."""
    accounts_db, data = await portfolio(env)
    disputes_db = await env.pg.create("disputes", "disputes")
    bare_db = await env.pg.create("disputes_bare", "disputes")
    conn = await asyncpg.connect(accounts_db.dsn)
    rows = await conn.fetch(
        "SELECT id, customer_id FROM invoices WHERE open_minor > 0 AND held_minor = 0 ORDER BY id"
    )
    await conn.close()
    invoices = Invoices(rows)
    sink_at = launch.address()
    sink = await env.start(
        "otlp-sink", ["-m", "bench.baseline.otlp_sink", "--listen", sink_at], {}, sink_at
    )
    jwt = JwtSettings("HS256", (DEV_JWT_SECRET,), DEV_ISSUER, DEV_AUDIENCE)
    bearer = f"Bearer {mint(jwt, 'bench', ['collector'], ttl_s=6 * 3600)}"
    mode = env.mode
    plan = Plan(concurrency=mode.concurrency, reps=mode.reps, duration_s=mode.duration_s,
                warmup_s=mode.warmup_s)  # fmt: skip
    series = Series()
    once = replace(plan, reps=1)
    for rep in range(plan.reps):
        shift = rep % len(SETTINGS)
        for setting in SETTINGS[shift:] + SETTINGS[:shift]:
            otel = tracing_env(setting, sink_at)
            phases = [(_settle_phase, (accounts_db, disputes_db), (otel, bearer))]
            if setting in mode.traced_baselines:
                phases.append((_bare_phase, (accounts_db, bare_db), (otel,)))
            for build, dbs, extra in phases:
                async with env.phase(), _Clients(mode.concurrency) as clients:
                    variants = await build(env, dbs, invoices, setting, *extra, clients)
                    last = rep == plan.reps - 1
                    await series.run(variants, once, env.profile_dir if last else None)
    results = {r.name: r for r in series.results()}
    dataset = {**data.describe(), "undisputed_invoices": len(invoices.rows),
               "cases_opened": invoices.next, "otlp_sink_pid": sink.pid}  # fmt: skip
    settings = {"concurrency": mode.concurrency, "repetitions": mode.reps,
                "seconds_per_repetition": mode.duration_s, "warmup_s": mode.warmup_s,
                "tracing": {s: tracing_env(s, "<sink>") for s in SETTINGS},
                "bare_compared_at": list(mode.traced_baselines),
                "phases": "per repetition, per tracing setting (rotated): its Settle stack, "
                          "then its bare chain, each started anew and warmed up; variants "
                          "interleaved within a phase"}  # fmt: skip
    return PathRun(results, dataset, settings)


class _Clients:
    """HTTP clients of one phase (keep-alive, one connection per concurrent client)."""

    def __init__(self, concurrency: int):
        self.concurrency, self.open = concurrency, []

    def __call__(self, at: str) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=64)
        client = httpx.AsyncClient(base_url=f"http://{at}", limits=limits, timeout=TIMEOUT_S)
        self.open.append(client)
        return client

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        for client in self.open:
            await client.aclose()
