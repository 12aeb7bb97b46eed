"""`fetch_rows` gives what `conn.execute` gives, whether it ran the statement on the driver
(PostgreSQL, a reading connection or a transaction already begun, no recorded trace) or through
SQLAlchemy: the same values after the same type processing (aware UTC datetimes, Numeric, bound
defaults, IN lists)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    literal_column,
    select,
    text,
    union_all,
)

from common.db import Database, driver_reads
from common.db.driver_reads import fetch_rows
from common.db.types import UtcDateTime
from common.errors import Unavailable

META = MetaData()
ITEMS = Table(
    "items",
    META,
    Column("id", String, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("amount", Numeric(12, 2)),
    Column("at", UtcDateTime()),
)
AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
# The driver path is asyncpg's: these run on PostgreSQL only (never skipped on SQLite).
ON_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)
BY_ID = select(ITEMS).where(ITEMS.c.id == bindparam("id"))
# a constant bound at build time, an IN list, an order and a limit, and a union of two branches
STATEMENTS = {
    "by id": (BY_ID, {"id": "b"}),
    "constant": (select(ITEMS.c.id).where(ITEMS.c.n >= 2).order_by(ITEMS.c.id), {}),
    "in list": (
        select(ITEMS).where(ITEMS.c.id.in_(bindparam("ids", expanding=True))).order_by(ITEMS.c.n),
        {"ids": ["a", "c", "zz"]},
    ),
    "page": (
        select(ITEMS.c.id, ITEMS.c.at)
        .where(ITEMS.c.at > bindparam("since", type_=UtcDateTime()))
        .order_by(ITEMS.c.at.desc())
        .limit(bindparam("size", type_=Integer)),
        {"since": AT - timedelta(days=1), "size": 2},
    ),
    "union": (
        union_all(
            select(literal_column("0", Integer).label("part"), ITEMS.c.id, ITEMS.c.at),
            select(literal_column("1", Integer), ITEMS.c.id, ITEMS.c.at).where(ITEMS.c.n == 1),
        ).order_by("part", "id"),
        {},
    ),
}


@pytest.fixture
async def db(tmp_path, backend, database_factory):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
        if backend == "sqlite"
        else database_factory.empty_url("postgres")
    )
    database = Database.from_url(url)
    async with database.engine.begin() as conn:
        await conn.run_sync(META.create_all)
        await conn.execute(
            ITEMS.insert(),
            [
                {"id": "a", "n": 1, "amount": Decimal("10.50"), "at": AT},
                {"id": "b", "n": 2, "amount": None, "at": AT + timedelta(hours=3)},
                {"id": "c", "n": 3, "amount": Decimal("0.01"), "at": None},
            ],
        )
    yield database
    await database.dispose()


@pytest.mark.parametrize("name", STATEMENTS)
async def test_the_rows_are_those_sqlalchemy_reads(db, name):
    statement, params = STATEMENTS[name]
    async with db.reading_connection() as conn:
        expected = [tuple(row) for row in await conn.execute(statement, params)]
        for _ in range(2):  # the first run learns the column types, the next ones use them
            assert [tuple(row) for row in await fetch_rows(conn, statement, params)] == expected
    assert expected  # every statement finds something


@ON_POSTGRES
async def test_on_postgres_a_reading_connection_reads_on_the_driver(db):
    driver_reads._prepared.clear()
    async with db.reading_connection() as conn:
        await fetch_rows(conn, BY_ID, {"id": "a"})
    assert any(p.statement is BY_ID for p in driver_reads._prepared.values())


async def test_a_transaction_not_yet_begun_or_a_recorded_trace_reads_through_sqlalchemy(db):
    driver_reads._prepared.clear()
    async with db.transaction() as session:
        conn = await session.connection()
        assert [r[0] for r in await fetch_rows(conn, BY_ID, {"id": "a"})] == ["a"]
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("recorded"):
        async with db.reading_connection() as conn:
            assert [r[0] for r in await fetch_rows(conn, BY_ID, {"id": "c"})] == ["c"]
    assert not driver_reads._prepared


@ON_POSTGRES
async def test_a_connection_the_server_closed_is_unavailable(db):
    with pytest.raises(Unavailable):
        async with db.reading_connection() as conn:
            pid = conn.sync_connection.connection.driver_connection.get_server_pid()
            async with db.reading_connection() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await asyncio.sleep(0.2)  # the server's goodbye reaches the client
            await fetch_rows(conn, BY_ID, {"id": "a"})
    async with db.reading_connection() as conn:  # the pool starts afresh
        assert [r[0] for r in await fetch_rows(conn, BY_ID, {"id": "b"})] == ["b"]


@ON_POSTGRES
async def test_once_a_transaction_has_begun_its_reads_run_on_the_driver_inside_it(db):
    driver_reads._prepared.clear()
    with pytest.raises(LookupError):
        async with db.transaction() as session:
            conn = await session.connection()
            await conn.execute(ITEMS.update().where(ITEMS.c.id == "a").values(n=10))
            assert [tuple(r)[:2] for r in await fetch_rows(conn, BY_ID, {"id": "a"})] == [("a", 10)]
            assert any(p.statement is BY_ID for p in driver_reads._prepared.values())
            raise LookupError  # rolls back: the read saw the transaction's own uncommitted write
    async with db.reading_connection() as conn:
        assert [tuple(r)[:2] for r in await fetch_rows(conn, BY_ID, {"id": "a"})] == [("a", 1)]
