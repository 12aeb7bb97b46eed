"""The units of work: `transaction()` is all-or-nothing; `reading()` (a session) and
`reading_connection()` (a bare connection, for Core) send no BEGIN/COMMIT (and on SQLite take no
write lock), yet map a lost database to UNAVAILABLE the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from common.db import Database
from common.errors import Unavailable


@pytest.fixture
async def db(tmp_path, backend, database_factory):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'units.db'}"
        if backend == "sqlite"
        else database_factory.empty_url("postgres")
    )
    database = Database.from_url(url)
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (n integer)"))
    yield database
    await database.dispose()


def statements(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(
        db.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2].strip())
    )
    return seen


READERS = ["reading", "reading_connection"]


@pytest.mark.parametrize("reader", READERS)
async def test_reading_sends_only_the_query(db, reader):
    seen = statements(db)
    async with getattr(db, reader)() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert seen == ["SELECT count(*) FROM t"]


async def test_transaction_begins_and_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")
    async with db.reading() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_reader_does_not_block_a_writer(db):
    async with db.reading() as session:
        await session.execute(text("SELECT count(*) FROM t"))
        async with db.transaction() as writer:  # would wait for the reader's lock on SQLite
            await writer.execute(text("INSERT INTO t VALUES (1)"))
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1


@pytest.mark.parametrize("reader", READERS)
async def test_reading_an_unreachable_database_is_unavailable(reader):
    db = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    with pytest.raises(Unavailable):
        async with getattr(db, reader)() as session:
            await session.execute(text("SELECT 1"))
    await db.dispose()
