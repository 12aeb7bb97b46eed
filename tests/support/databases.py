"""Databases for tests, made by the real migrations.

Each service gets a migrated template once per session (a SQLite file, or a PostgreSQL template
database); every test then gets its own copy, which is fast on both. PostgreSQL is required when
CI=true: unreachable means failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from common.db.database import create_engine
from common.db.migrate import upgrade

PG_ADMIN_DSN = os.environ.get("SETTLE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _run(coro):
    """Runs a coroutine to completion from sync or async test code alike (own thread and loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        await conn.close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def require_postgres() -> None:
    problem = _run(_pg_reachable())
    if problem is None:
        return
    message = f"PostgreSQL at {PG_ADMIN_DSN} is unreachable ({problem})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; set SETTLE_TEST_PG_DSN or run with CI=true to require it")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str, service: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine, service)
    finally:
        await engine.dispose()


def _dsn_for(database: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{database}"


class DatabaseFactory:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.templates: dict[tuple[str, str], str] = {}
        self.created_pg: list[str] = []
        self.session_tag = uuid.uuid4().hex[:8]

    def _template(self, backend: str, service: str) -> str:
        key = (backend, service)
        if key not in self.templates:
            if backend == "sqlite":
                path = self.workdir / f"template-{service}.db"
                _run(_migrate(f"sqlite+aiosqlite:///{path}", service))
                self.templates[key] = str(path)
            else:
                name = f"settle_tpl_{service}_{self.session_tag}"
                _run(_admin(f'CREATE DATABASE "{name}"'))
                self.created_pg.append(name)
                _run(_migrate(sqlalchemy_url(_dsn_for(name)), service))
                self.templates[key] = name
        return self.templates[key]

    def new_url(self, backend: str, service: str) -> str:
        template = self._template(backend, service)
        if backend == "sqlite":
            path = self.workdir / f"{service}-{uuid.uuid4().hex[:10]}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"settle_t_{service}_{uuid.uuid4().hex[:10]}"
        _run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        self.created_pg.append(name)
        return sqlalchemy_url(_dsn_for(name))

    def empty_url(self, backend: str) -> str:
        """A database with no schema at all, for migration tests."""
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / f'empty-{uuid.uuid4().hex[:10]}.db'}"
        name = f"settle_t_empty_{uuid.uuid4().hex[:10]}"
        _run(_admin(f'CREATE DATABASE "{name}"'))
        self.created_pg.append(name)
        return sqlalchemy_url(_dsn_for(name))

    def cleanup(self) -> None:
        """Drops every database this session made. DROP DATABASE waits for a checkpoint; run in
        parallel, the drops share checkpoints (16 take about as long as one)."""

        async def drop_all():
            gate = asyncio.Semaphore(16)

            async def drop(name: str) -> None:
                async with gate:
                    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            copies = [n for n in self.created_pg if not n.startswith("settle_tpl_")]
            await asyncio.gather(*(drop(n) for n in copies))
            await asyncio.gather(*(drop(n) for n in self.created_pg if n not in copies))

        if self.created_pg:
            _run(drop_all())
