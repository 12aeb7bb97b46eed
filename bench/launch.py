"""How the bench starts Settle's processes and the bare baselines, and talks to them. Every
process is started as a user starts it (`python -m …`, configured by the environment)."""

from __future__ import annotations

import asyncio
import os

import grpc

from bench.harness.env import BenchEnv
from bench.harness.pg import BenchDatabase
from bench.harness.processes import Proc, free_port
from common.rpc.client import open_channel
from common.rpc.server import CHANNEL_OPTIONS
from common.settings import DEV_INTERNAL_SECRET

BARE_SERVER = ["-m", "bench.baseline.server"]


def address() -> str:
    return f"127.0.0.1:{free_port()}"


async def accounts(
    env: BenchEnv, db: BenchDatabase, *, name: str = "accounts", extra_env: dict | None = None,
    at: str | None = None,
) -> Proc:  # fmt: skip
    """`python -m services.accounts` on the bench database, without the dunning and Legal
    workers (no scenario it serves is about them: the dunning scenario runs the run in-process,
    and a daily run over the portfolio would compete with what is measured)."""
    at = at or address()
    variables = {
        "ACCOUNTS_ADDR": at, "ACCOUNTS_DATABASE_URL": db.url, "ACCOUNTS_DUNNING_WORKER": "off",
        "ACCOUNTS_LEGAL_WORKER": "off", **(extra_env or {}),
    }  # fmt: skip
    return await env.start(name, ["-m", "services.accounts"], variables, at)


async def disputes(
    env: BenchEnv, db: BenchDatabase, *, at: str, accounts: str, escalation: str,
    name: str = "disputes", extra_env: dict | None = None,
) -> Proc:  # fmt: skip
    """`python -m services.disputes` (with its sweeper and outbox relay, as deployed)."""
    variables = {
        "DISPUTES_ADDR": at, "DISPUTES_DATABASE_URL": db.url, "ACCOUNTS_ADDR": accounts,
        "ESCALATION_ADDR": escalation, **(extra_env or {}),
    }  # fmt: skip
    return await env.start(name, ["-m", "services.disputes"], variables, at)


async def escalation(env: BenchEnv, db: BenchDatabase, *, at: str, disputes: str) -> Proc:
    """`python -m services.escalation`."""
    variables = {
        "ESCALATION_ADDR": at,
        "ESCALATION_DATABASE_URL": db.url,
        "DISPUTES_ADDR": disputes,
    }
    return await env.start("escalation", ["-m", "services.escalation"], variables, at)


async def gateway(
    env: BenchEnv, *, name: str, grpc_at: str, http_at: str, backends: dict[str, str],
    extra_env: dict | None = None,
) -> Proc:  # fmt: skip
    """`python -m gateway` in front of the given backends (development JWT secret)."""
    variables = {"GATEWAY_ADDR": grpc_at, "GATEWAY_HTTP_ADDR": http_at, **(extra_env or {})}
    variables.update({f"{service.upper()}_ADDR": at for service, at in backends.items()})
    return await env.start(name, ["-m", "gateway"], variables, grpc_at)


async def bare_chain(env: BenchEnv, db: BenchDatabase, hops: int = 1) -> list[Proc]:
    """`hops` bare grpc.aio processes: relays in front of one that runs the SQL. Front first."""
    at = address()
    chain = [await env.start("bare", [*BARE_SERVER, "--listen", at, "--dsn", db.dsn], {}, at)]
    for hop in range(1, hops):
        front = address()
        argv = [*BARE_SERVER, "--listen", front, "--next", chain[0].address]
        chain.insert(0, await env.start(f"bare-relay{hop}", argv, {}, front))
    return chain


async def bare_disputes(env: BenchEnv, db: BenchDatabase) -> Proc:
    """One bare server with the disputes methods (reads need no accounts)."""
    at = address()
    argv = [*BARE_SERVER, "--service", "disputes", "--listen", at, "--dsn", db.dsn,
            "--accounts", address()]  # fmt: skip
    return await env.start("bare", argv, {}, at)


async def bare_dispute_chain(
    env: BenchEnv, accounts_db: BenchDatabase, disputes_db: BenchDatabase, *, tag: str,
    extra_env: dict | None = None,
) -> tuple[list[Proc], str]:  # fmt: skip
    """Bare front (gRPC + HTTP) → bare disputes → bare accounts: the gateway path's hops.
    Returns (processes, front first; the front's HTTP address)."""
    variables = extra_env or {}
    acc_at, dis_at, front_at, http_at = address(), address(), address(), address()
    acc_argv = [*BARE_SERVER, "--listen", acc_at, "--dsn", accounts_db.dsn]
    dis_argv = [*BARE_SERVER, "--service", "disputes", "--listen", dis_at,
                "--dsn", disputes_db.dsn, "--accounts", acc_at]  # fmt: skip
    front_argv = ["-m", "bench.baseline.front", "--grpc", front_at, "--http", http_at,
                  "--next", dis_at]  # fmt: skip
    acc, dis, front = await asyncio.gather(  # they find each other by address: start together
        env.start(f"bare-accounts[{tag}]", acc_argv, variables, acc_at),
        env.start(f"bare-disputes[{tag}]", dis_argv, variables, dis_at),
        env.start(f"bare-front[{tag}]", front_argv, variables, front_at),
    )
    return [front, dis, acc], http_at


def signed_channel(env: BenchEnv, at: str) -> grpc.aio.Channel:
    """A client of a Settle service: signed identity, tracing interceptors, like a real caller."""
    channel = open_channel(at, secret=DEV_INTERNAL_SECRET, service="bench")
    env.on_exit(channel.close)
    return channel


def bare_channel(env: BenchEnv, at: str) -> grpc.aio.Channel:
    channel = grpc.aio.insecure_channel(at, options=CHANNEL_OPTIONS)
    env.on_exit(channel.close)
    return channel


def roles(env: BenchEnv, dbs: BenchDatabase | list[BenchDatabase], procs: list[Proc]):
    """The processes doing a variant's work: the bench process, the services, the PostgreSQL
    backends of the bench databases (looked up at each snapshot, as pools open connections)."""
    dbs = dbs if isinstance(dbs, list) else [dbs]

    async def current() -> dict[str, list[int]]:
        found: dict[str, list[int]] = {"client": [os.getpid()]}
        for proc in procs:
            found.setdefault(proc.name, []).append(proc.pid)
        found["postgres"] = [pid for db in dbs for pid in await env.pg.backend_pids(db)]
        return found

    return current


def memory_of(procs: list[Proc]):
    return lambda: {"client": os.getpid(), **{p.name: p.pid for p in procs}}
