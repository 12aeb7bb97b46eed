"""How the bench starts Settle's processes and the bare baseline chain, and talks to them."""

from __future__ import annotations

import os

import grpc

from bench.harness.env import BenchEnv
from bench.harness.pg import BenchDatabase
from bench.harness.processes import Proc, free_port
from common.rpc.client import open_channel
from common.rpc.server import CHANNEL_OPTIONS
from common.settings import DEV_INTERNAL_SECRET


async def accounts(
    env: BenchEnv, db: BenchDatabase, *, name: str = "accounts", extra_env: dict | None = None
) -> Proc:
    """`python -m services.accounts`, configured as a user would, on the bench database."""
    address = f"127.0.0.1:{free_port()}"
    variables = {"ACCOUNTS_ADDR": address, "ACCOUNTS_DATABASE_URL": db.url, **(extra_env or {})}
    return await env.start(name, ["-m", "services.accounts"], variables, address)


async def bare_chain(env: BenchEnv, db: BenchDatabase, hops: int = 1) -> list[Proc]:
    """`hops` bare grpc.aio processes: relays in front of one that runs the SQL. Front first."""
    address = f"127.0.0.1:{free_port()}"
    data = await env.start(
        "bare", ["-m", "bench.baseline.server", "--listen", address, "--dsn", db.dsn], {}, address
    )
    chain = [data]
    for hop in range(1, hops):
        front = f"127.0.0.1:{free_port()}"
        argv = ["-m", "bench.baseline.server", "--listen", front, "--next", chain[0].address]
        chain.insert(0, await env.start(f"bare-relay{hop}", argv, {}, front))
    return chain


def signed_channel(env: BenchEnv, address: str) -> grpc.aio.Channel:
    """A client of a Settle service: signed identity, tracing interceptors, like a real caller."""
    channel = open_channel(address, secret=DEV_INTERNAL_SECRET, service="bench")
    env.on_exit(channel.close)
    return channel


def bare_channel(env: BenchEnv, address: str) -> grpc.aio.Channel:
    channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    env.on_exit(channel.close)
    return channel


def roles(env: BenchEnv, db: BenchDatabase, procs: list[Proc]):
    """The processes doing a variant's work: the bench process, the services, the PostgreSQL
    backends of the bench database (looked up at each snapshot, as pools open connections)."""

    async def current() -> dict[str, list[int]]:
        found: dict[str, list[int]] = {"client": [os.getpid()]}
        for proc in procs:
            found.setdefault(proc.name, []).append(proc.pid)
        found["postgres"] = await env.pg.backend_pids(db)
        return found

    return current


def memory_of(procs: list[Proc]):
    return lambda: {"client": os.getpid(), **{p.name: p.pid for p in procs}}
