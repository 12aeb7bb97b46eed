"""`insert_rows` writes what one Core INSERT per table writes (the same values after the same bind
processing: aware UTC datetimes, bytes, booleans, NULLs, big integers), parents before children
whatever order it is given, in the caller's transaction; on PostgreSQL in one statement, which
SQLAlchemy's listeners see and whose errors it wraps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    select,
)
from sqlalchemy.exc import IntegrityError

from common.db import Database
from common.db.inserts import insert_rows
from common.db.types import UtcDateTime

META = MetaData()
PARENTS = Table(
    "parents",
    META,
    Column("id", String(32), primary_key=True),
    Column("at", UtcDateTime()),
    Column("flag", Boolean, nullable=False),
    Column("note", String(200), nullable=True),
)
CHILDREN = Table(
    "children",
    META,
    Column("id", String(32), primary_key=True),
    Column("parent_id", ForeignKey("parents.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("payload", LargeBinary),
)
AT = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))  # stored as 10:30 UTC


def _parents(*ids: str) -> list[dict]:
    return [
        {"id": i, "at": AT + timedelta(minutes=n), "flag": n % 2 == 0, "note": None if n else "x"}
        for n, i in enumerate(ids)
    ]


def _children(parent: str, n: int) -> list[dict]:
    return [
        {"id": f"{parent}-{k}", "parent_id": parent, "amount": 2**40 + k, "payload": bytes([k])}
        for k in range(n)
    ]


@pytest.fixture
async def db(tmp_path, backend, database_factory):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'inserts.db'}"
        if backend == "sqlite"
        else database_factory.empty_url("postgres")
    )
    database = Database.from_url(url)
    async with database.engine.begin() as conn:
        await conn.run_sync(META.create_all)
    yield database
    await database.dispose()


async def _table(db: Database, table: Table) -> list[tuple]:
    async with db.reading_connection() as conn:
        return [tuple(r) for r in await conn.execute(select(table).order_by(table.c.id))]


async def test_the_rows_are_those_core_inserts_write(db, backend):
    rows = {CHILDREN: _children("a", 3) + _children("b", 1), PARENTS: _parents("a", "b")}
    seen: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    async with db.transaction() as session:
        await insert_rows(await session.connection(), rows)
    inserts = [s for s in seen if "INSERT" in s]
    assert len(inserts) == (1 if backend == "postgres" else 2), seen
    written = {t: await _table(db, t) for t in (PARENTS, CHILDREN)}
    async with db.transaction() as session:  # the same rows again, one Core INSERT per table
        conn = await session.connection()
        await conn.execute(CHILDREN.delete())
        await conn.execute(PARENTS.delete())
        for table in (PARENTS, CHILDREN):
            await conn.execute(table.insert(), rows[table])
    assert written == {t: await _table(db, t) for t in (PARENTS, CHILDREN)}
    assert written[PARENTS][0][1] == AT.astimezone(UTC)
    assert [r[2] for r in written[CHILDREN]] == [2**40, 2**40 + 1, 2**40 + 2, 2**40]


async def test_a_table_without_rows_is_left_out_and_nothing_at_all_runs_nothing(db):
    async with db.transaction() as session:
        conn = await session.connection()
        await insert_rows(conn, {})
        await insert_rows(conn, {PARENTS: _parents("a"), CHILDREN: []})
    assert len(await _table(db, PARENTS)) == 1
    assert not await _table(db, CHILDREN)


async def test_a_failed_insert_is_sqlalchemys_error_and_writes_nothing(db):
    async with db.transaction() as session:
        await insert_rows(await session.connection(), {PARENTS: _parents("a")})
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            rows = {PARENTS: _parents("b", "a"), CHILDREN: _children("b", 2)}
            await insert_rows(await session.connection(), rows)
    assert [r[0] for r in await _table(db, PARENTS)] == ["a"]
    assert not await _table(db, CHILDREN)


async def test_a_child_without_its_parent_is_refused(db):
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await insert_rows(await session.connection(), {CHILDREN: _children("nobody", 1)})
