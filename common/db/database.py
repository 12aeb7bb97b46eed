"""One async engine per service and a unit of work per use case.

PostgreSQL (asyncpg) and SQLite (aiosqlite) run through the same code. On SQLite every write
transaction starts with BEGIN IMMEDIATE, so concurrent writers queue instead of failing on a lock
upgrade; WAL lets readers carry on meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from common.errors import Unavailable

AUTOCOMMIT = "AUTOCOMMIT"
Unit = TypeVar("Unit", AsyncSession, AsyncConnection)  # what `_unit` opens: ORM or Core
# SQLSTATEs that say "the server is not there right now", not "the statement is wrong": besides
# class 08 (connection exceptions), admin shutdown, crash shutdown and "cannot connect now" (the
# database system is starting up, shutting down or not yet consistent after a crash).
SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
# PostgreSQL's class 53 (insufficient resources: too many connections, disk full, out of memory):
# the server is there but cannot take the work now.
OUT_OF_RESOURCES_CLASS = "53"
# SQLite's result codes (and their extended forms, e.g. SQLITE_IOERR_READ, SQLITE_BUSY_SNAPSHOT)
# that say "not now": another writer held the lock past the busy timeout, the file cannot be
# opened, the disk failed or is full. Every other error (syntax, "expression tree is too large",
# "too many SQL variables", a missing table) is a bug of ours, not an outage: it stays an error,
# INTERNAL at the edge, instead of telling the caller to retry what will fail again.
SQLITE_NOT_NOW = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, whether SQLAlchemy wrapped it (`.orig`, then asyncpg's
    error as its cause) or not (asyncpg raises its own while a pooled connection is opened)."""
    for err in (exc, getattr(exc, "orig", None)):
        for candidate in (err, getattr(err, "__cause__", None)):
            state = getattr(candidate, "sqlstate", None)
            if isinstance(state, str):
                return state
    return None


def database_down(exc: BaseException) -> bool:
    """The server refused, dropped or is restarting: pooled connections are dead, retry later.
    A refused or reset connect arrives from asyncpg as a bare OSError."""
    if isinstance(exc, OSError) or getattr(exc, "connection_invalidated", False):
        return True
    state = _sqlstate(exc)
    return state is not None and (state.startswith("08") or state in SERVER_GOING_AWAY)


def database_busy(exc: BaseException) -> bool:
    """The database is there but cannot serve now (locked, unopenable, disk or resources)."""
    name = getattr(getattr(exc, "orig", None), "sqlite_errorname", None)
    if isinstance(exc, OperationalError) and isinstance(name, str):
        return name.startswith(SQLITE_NOT_NOW)
    # wrapped by SQLAlchemy, or asyncpg's own from a read run on the driver (driver_reads)
    state = _sqlstate(exc)
    return state is not None and state.startswith(OUT_OF_RESOURCES_CLASS)


def is_postgres(engine_or_url) -> bool:
    url = engine_or_url.url if hasattr(engine_or_url, "url") else make_url(str(engine_or_url))
    return url.get_backend_name() == "postgresql"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event decide how to begin
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("isolation_level") != AUTOCOMMIT:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# Connections kept open per process, and how many more a burst may open. Every request in flight
# holds one for its transaction: with the 16 clients of the benchmarks, a pool of 10 kept opening
# and closing overflow connections (connect, SSL probe, cold statement cache: ~1 ms of CPU each).
POOL_SIZE, MAX_OVERFLOW = 20, 10
# asyncpg keeps prepared statements up to 15 KiB by default; a case read for display
# (services/disputes/data/reads.py: one UNION ALL of five padded branches) is ~17 KiB, and
# preparing it again on every read cost PostgreSQL ~3 ms of planning (common/db/driver_reads.py
# runs display reads on asyncpg's own statement cache).
MAX_CACHED_STATEMENT_BYTES = 64 * 1024


def create_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> AsyncEngine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=False,
        connect_args={"max_cacheable_statement_size": MAX_CACHED_STATEMENT_BYTES},
    )


class Database:
    """Owns the engine; hands out sessions that are one transaction each, or that only read."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._reading_engine = engine.execution_options(isolation_level=AUTOCOMMIT)
        self._readers = async_sessionmaker(
            self._reading_engine, expire_on_commit=False, autoflush=False
        )

    @classmethod
    def from_url(cls, url: str, **kw) -> Database:
        return cls(create_engine(url, **kw))

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back on any exception.

        Connection-level failures become `Unavailable`, which callers may retry; nothing was
        committed in that case.
        """
        return self._unit(self._sessions)

    def reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A read without BEGIN/COMMIT (two round trips and a third of a simple read's CPU):
        each statement sees its own snapshot, so use it where one statement answers, or where
        statements need not agree with each other. Never write through it."""
        return self._unit(self._readers)

    def reading_connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """`reading()` for Core statements: a connection without the Session's bookkeeping
        (about 0.3 ms less CPU per read), nor SQLAlchemy's begin and commit around it (nothing
        to commit in autocommit; ~80 µs per read)."""
        return self._unit(self._reading_engine.connect, begin=False)

    @asynccontextmanager
    async def _unit(self, open_unit: Callable[[], Unit], begin: bool = True) -> AsyncIterator[Unit]:
        try:
            async with open_unit() as unit, unit.begin() if begin else nullcontext():
                yield unit
        except Exception as exc:
            down = database_down(exc)
            if not (down or database_busy(exc)):
                raise
            if down:
                # Connections are not pinged on checkout (that costs a round trip per request);
                # when the server went away, the pool is replaced so the next request starts clean.
                await self.engine.dispose()
            # Retrying is safe: nothing was committed, and creates are idempotent.
            raise Unavailable(
                "the database is not reachable; retry", reason="DB_UNAVAILABLE"
            ) from exc

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
