"""PostgreSQL for the bench: one database per dataset, made by the service's real migrations and
dropped at the end; the backends serving it are found so their CPU can be counted."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import asyncpg

from common.db.database import create_engine
from common.db.migrate import upgrade

ADMIN_DSN = (
    os.environ.get("SETTLE_BENCH_PG_DSN")
    or os.environ.get("SETTLE_TEST_PG_DSN")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)


def dsn_for(database: str) -> str:
    return f"{ADMIN_DSN.rpartition('/')[0]}/{database}"


@dataclass
class BenchDatabase:
    name: str

    @property
    def dsn(self) -> str:  # for asyncpg
        return dsn_for(self.name)

    @property
    def url(self) -> str:  # for the services (SQLAlchemy)
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


class Postgres:
    """The admin connection: creates and drops bench databases, reads backend pids."""

    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn
        self.created: list[BenchDatabase] = []

    @classmethod
    async def connect(cls) -> Postgres:
        return cls(await asyncpg.connect(ADMIN_DSN, timeout=10))

    async def create(self, label: str, service: str) -> BenchDatabase:
        db = BenchDatabase(f"settle_bench_{label}_{uuid.uuid4().hex[:8]}")
        await self.conn.execute(f'CREATE DATABASE "{db.name}"')
        self.created.append(db)
        engine = create_engine(db.url)
        try:
            await upgrade(engine, service)
        finally:
            await engine.dispose()
        return db

    async def backend_pids(self, db: BenchDatabase) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            db.name,
        )
        return [r["pid"] for r in rows]

    async def info(self) -> dict:
        settings = await self.conn.fetch(
            "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
            ["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "synchronous_commit",
             "fsync", "max_connections"],
        )  # fmt: skip
        return {
            "version": await self.conn.fetchval("SHOW server_version"),
            "settings": {r["name"]: r["setting"] for r in settings},
        }

    async def close(self) -> None:
        for db in reversed(self.created):
            await self.conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
        self.created.clear()
        await self.conn.close()
