"""run_once on both databases: the key is one INSERT (complete at once when the resource's id is
chosen beforehand, else one UPDATE after the create; the key row is never read back); a retry
replays; other content under the same key is refused; a concurrent duplicate waits for the
first and replays its result. The batch form: one SELECT for many keys, one INSERT for many."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import DeclarativeBase

from common.clock import ManualClock
from common.db import Database
from common.db.outbox_model import IdempotencyKeyMixin
from common.errors import AlreadyExists, InvalidArgument
from common.idempotency import IdempotencyStore, RequestKey, run_once


class Base(DeclarativeBase):
    pass


class KeyRow(IdempotencyKeyMixin, Base):
    pass


@pytest.fixture
async def db(tmp_path, backend, database_factory):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        if backend == "sqlite"
        else database_factory.empty_url("postgres")
    )
    database = Database.from_url(url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def store():
    return IdempotencyStore(KeyRow, ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))


def key_statements(db: Database) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *_):
        if "idempotency_keys" in statement:
            seen.append(statement.split()[0])

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def resource_of(db: Database, key: str) -> str | None:
    async with db.reading() as session:
        return await session.scalar(select(KeyRow.resource_id).where(KeyRow.key == key))


async def _replay(session, resource_id):
    return f"replayed {resource_id}"


async def test_a_key_chosen_with_its_resource_id_is_one_insert(db, store):
    seen = key_statements(db)

    async def create(session):
        return "r-1", "created r-1"

    request = RequestKey("k-1", "fp")
    result = await run_once(db, store, "S", request, create, _replay, resource_id="r-1")
    assert result == "created r-1" and seen == ["INSERT"]
    assert await resource_of(db, "k-1") == "r-1"
    assert await run_once(db, store, "S", request, create, _replay) == "replayed r-1"
    with pytest.raises(InvalidArgument):
        await run_once(db, store, "S", RequestKey("k-1", "other"), create, _replay)


async def test_a_resource_id_known_only_after_the_create_is_one_update(db, store):
    seen = key_statements(db)

    async def create(session):
        return "r-2", "created r-2"

    assert await run_once(db, store, "S", RequestKey("k-2", "fp"), create, _replay) == "created r-2"
    assert seen == ["INSERT", "UPDATE"] and await resource_of(db, "k-2") == "r-2"


async def test_a_concurrent_duplicate_waits_for_the_first_and_replays(postgres_backend, db, store):
    inside, release, created = asyncio.Event(), asyncio.Event(), []

    async def create(session):
        created.append(1)
        inside.set()
        await release.wait()  # the first holds its transaction (and the key) open
        return "r-3", "created r-3"

    request = RequestKey("k-3", "fp")
    first = asyncio.create_task(
        run_once(db, store, "S", request, create, _replay, resource_id="r-3")
    )
    await inside.wait()
    second = asyncio.create_task(run_once(db, store, "S", request, create, _replay))
    await asyncio.sleep(0.3)
    assert not second.done()  # waiting on the key, not failing or creating
    release.set()
    assert (await first, await second) == ("created r-3", "replayed r-3")
    assert created == [1]


async def test_a_batch_looks_up_and_records_its_keys_one_statement_each(db, store):
    seen = key_statements(db)
    first, second = RequestKey("b-1", "fp-1"), RequestKey("b-2", "fp-2")
    async with db.transaction() as session:
        assert await store.find_many(session, "Batch", ["b-1", "b-2"]) == {}
        await store.record_many(session, "Batch", [(first, "r-1"), (second, "r-2")])
    async with db.transaction() as session:
        found = await store.find_many(session, "Batch", ["b-1", "b-2", "b-3"])
        other_scope = await store.find_many(session, "Other", ["b-1"])
    assert {k: (r.fingerprint, r.resource_id) for k, r in found.items()} == {
        "b-1": ("fp-1", "r-1"),
        "b-2": ("fp-2", "r-2"),
    }
    assert other_scope == {}
    assert seen == ["SELECT", "INSERT", "SELECT", "SELECT"]
    async with db.transaction() as session:  # nothing asked, nothing run
        assert await store.find_many(session, "Batch", []) == {}
        await store.record_many(session, "Batch", [])
    assert len(seen) == 4


async def test_a_batch_recording_a_key_a_twin_recorded_fails_for_its_retry(db, store):
    async with db.transaction() as session:
        await store.record_many(session, "Batch", [(RequestKey("b-1", "fp"), "r-1")])
    with pytest.raises(AlreadyExists):
        async with db.transaction() as session:
            await store.record_many(session, "Batch", [(RequestKey("b-1", "fp"), "r-9")])
    assert await resource_of(db, "b-1") == "r-1"
