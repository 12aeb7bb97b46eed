"""The units of work: `transaction()` is all-or-nothing; `reading()` (a session) and
`reading_connection()` (a bare connection, for Core) send no BEGIN/COMMIT (and on SQLite take no
write lock), yet map a lost database to UNAVAILABLE the same way."""

from __future__ import annotations

import asyncio

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


# What SQLite or PostgreSQL refuse because the statement is wrong is a bug (INTERNAL at the
# edge), never "the database is not reachable; retry" (issue 17 defect 4).
WRONG_STATEMENTS = ["SELEC 1", "SELECT * FROM no_such_table"]
# SQLite's "expression tree is too large" (PostgreSQL has no depth limit this low).
TOO_DEEP = "SELECT " + " AND ".join(["n = 1"] * 1200) + " FROM t"


async def _refused(db: Database, reader: str, statement: str) -> BaseException:
    with pytest.raises(Exception) as raised:
        async with getattr(db, reader)() as session:
            await session.execute(text(statement))
    return raised.value


@pytest.mark.parametrize("reader", ["transaction", *READERS])
@pytest.mark.parametrize("statement", WRONG_STATEMENTS, ids=["syntax", "table"])
async def test_a_wrong_statement_is_an_error_not_an_outage(db, reader, statement):
    refused = await _refused(db, reader, statement)
    assert not isinstance(refused, Unavailable), refused


@pytest.mark.parametrize("reader", ["transaction", *READERS])
async def test_a_statement_too_deep_for_sqlite_is_an_error_not_an_outage(tmp_path, reader):
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'deep.db'}")
    try:
        refused = await _refused(db, reader, TOO_DEEP)
        assert "too large" in str(refused) and not isinstance(refused, Unavailable), refused
    finally:
        await db.dispose()


@pytest.mark.parametrize("reader", ["transaction", *READERS])
async def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path, reader):
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}")  # a directory, not a database
    with pytest.raises(Unavailable):
        async with getattr(db, reader)() as session:
            await session.execute(text("SELECT 1"))
    await db.dispose()
    # aiosqlite's worker thread of the failed connect posts its last result to this loop a moment
    # later; a loop closed before then turns it into an unhandled-thread warning.
    await asyncio.sleep(0.1)


def test_a_busy_server_is_busy_whether_or_not_sqlalchemy_wrapped_its_error():
    """Reads run on asyncpg directly (common/db/driver_reads.py) raise asyncpg's own errors: an
    out-of-resources one (SQLSTATE class 53, e.g. too many connections) must still read as
    busy, i.e. UNAVAILABLE to the caller, not INTERNAL."""
    import asyncpg
    from sqlalchemy.exc import ProgrammingError

    from common.db.database import database_busy

    raw = asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
    assert database_busy(raw)
    assert not database_busy(asyncpg.exceptions.UndefinedTableError("no such table"))
    assert not database_busy(ProgrammingError("SELECT", {}, Exception("syntax")))
