from __future__ import annotations

import asyncpg
import pytest

from common.clock import ManualClock
from tests.escalation.support import START, start_escalation

# Seeded by the migrations; everything else starts empty.
SEED_TABLES = ("routing_rules", "team_calendars", "ola_targets", "sequence_counters")


class ReusedPostgres:
    """One migrated PostgreSQL database for the whole suite, emptied back to its seeded state
    before each test. Creating and dropping a database per test costs about a second each on a
    busy server; a TRUNCATE and re-insert of the seeds costs milliseconds. SQLite tests still get
    a fresh copy each."""

    def __init__(self, url: str):
        self.url = url
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.seeds: dict[str, list] = {}
        self.tables: list[str] = []

    async def _connect(self):
        return await asyncpg.connect(self.dsn)

    async def snapshot(self) -> None:
        conn = await self._connect()
        try:
            self.tables = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename NOT LIKE 'alembic_version_%'"
                )
            ]
            for table in SEED_TABLES:
                self.seeds[table] = await conn.fetch(f'SELECT * FROM "{table}"')
        finally:
            await conn.close()

    async def reset(self) -> None:
        conn = await self._connect()
        try:
            async with conn.transaction():
                names = ", ".join(f'"{t}"' for t in self.tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                for table, rows in self.seeds.items():
                    if rows:
                        await conn.copy_records_to_table(
                            table,
                            records=[tuple(r.values()) for r in rows],
                            columns=list(rows[0].keys()),
                        )
        finally:
            await conn.close()


@pytest.fixture(scope="session")
def _reused_postgres(database_factory) -> dict:
    return {}


@pytest.fixture
async def escalation_url(backend, database_factory, _reused_postgres) -> str:
    if backend != "postgres":
        return database_factory.new_url(backend, "escalation")
    if "db" not in _reused_postgres:
        db = ReusedPostgres(database_factory.new_url(backend, "escalation"))
        await db.snapshot()
        _reused_postgres["db"] = db
    db = _reused_postgres["db"]
    await db.reset()
    return db.url


@pytest.fixture
async def esc(escalation_url):
    """The service with its workers off: tests run the sweeper and dispatcher by hand."""
    async with start_escalation(escalation_url, ManualClock(START)) as harness:
        yield harness
