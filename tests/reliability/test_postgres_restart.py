"""Issue 12, defect 2: while PostgreSQL restarts, shuts down or starts up, a unit of work fails
with `Unavailable` (gRPC UNAVAILABLE, HTTP 503: retry), never with a raw driver error (INTERNAL,
500); once the server is back the same unit of work succeeds. Real server, real restarts."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from common.db.database import Database
from common.errors import Unavailable

pytestmark = pytest.mark.postgres


async def _insert(db: Database, key: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            text("INSERT INTO t (k) VALUES (:k) ON CONFLICT DO NOTHING"), {"k": key}
        )


async def _keys(db: Database) -> set[str]:
    async with db.reading() as session:
        return set((await session.execute(text("SELECT k FROM t"))).scalars())


@pytest.fixture
async def db(private_cluster):
    database = Database.from_url(private_cluster.url("postgres"))
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (k text PRIMARY KEY)"))
    yield database
    await database.dispose()


async def _until_unavailable_then_ok(db: Database, key: str, outage) -> list[Unavailable]:
    """Calls `_insert(key)` in a loop while `outage` runs; every failure must be Unavailable."""
    failures: list[Unavailable] = []
    running = asyncio.create_task(asyncio.to_thread(outage))
    while not running.done() or not failures:
        try:
            await _insert(db, key)
            if running.done():
                break
        except Unavailable as exc:
            failures.append(exc)
        await asyncio.sleep(0.01)
    await running
    await _insert(db, key)  # the same call, after the outage
    return failures


async def test_immediate_restart_is_unavailable_then_recovers(private_cluster, db):
    await _insert(db, "before")  # the pool holds a live connection that the restart will kill
    failures = await _until_unavailable_then_ok(db, "after", private_cluster.restart)
    assert failures, "the restart was never seen"
    assert await _keys(db) == {"before", "after"}


async def test_statement_cut_by_a_fast_shutdown_is_unavailable(private_cluster, db):
    # 57P01 "terminating connection due to administrator command" reaches a statement in flight
    async def long_statement():
        async with db.transaction() as session:
            await session.execute(text("SELECT pg_sleep(30)"))

    in_flight = asyncio.create_task(long_statement())
    await asyncio.sleep(0.5)
    await asyncio.to_thread(private_cluster.stop, "fast")
    with pytest.raises(Unavailable) as caught:
        await in_flight
    assert caught.value.reason == "DB_UNAVAILABLE"
    with pytest.raises(Unavailable):  # connection refused while it is down
        await _insert(db, "while-down")
    await asyncio.to_thread(private_cluster.start)
    await _insert(db, "after")
    assert await _keys(db) == {"after"}


async def test_the_database_system_is_shutting_down_is_unavailable(private_cluster, db):
    # A smart shutdown waits for its last client and meanwhile refuses new connections with
    # 57P03 (CannotConnectNowError, raised by asyncpg while the pool opens a connection).
    holder = await asyncpg.connect(private_cluster.admin_dsn)
    try:
        await db.dispose()  # the next unit of work must open a new connection
        stopping = asyncio.create_task(asyncio.to_thread(private_cluster.stop, "smart"))
        await asyncio.sleep(0.5)
        with pytest.raises(Unavailable) as caught:
            await _insert(db, "while-stopping")
        assert isinstance(caught.value.__cause__, asyncpg.CannotConnectNowError)
    finally:
        await holder.close()
    await stopping
    await asyncio.to_thread(private_cluster.start)
    await _insert(db, "after")
    assert await _keys(db) == {"after"}
