"""Apply each request id or event id once (AIP-155 request ids, and the inbox of the outbox).

The key row is inserted first, inside the use case's transaction, with `ON CONFLICT DO NOTHING`:
a concurrent duplicate waits on the primary key until the first commits, then inserts nothing,
finds the first's row and returns the first result. A retry with the same key but other content
is refused.

A batch (RaiseEscalations) looks up all its keys in one statement (`find_many`) and records the
ones it used in one multi-row INSERT (`record_many`), answering a reused key item by item.

Every answer taken from the store is marked (`mark_replayed`, `mark_replayed_items`) on the
call's `Replays`, which the RPC layer installs per call and turns into the `settle-replayed`
trailer (common/rpc/replay.py): a retry looks like the first answer, yet says that it is one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.clock import Clock
from common.db import Database
from common.db.driver_reads import fetch_rows
from common.errors import AlreadyExists, InvalidArgument

T = TypeVar("T")
# Text: SQLAlchemy does not cache dialect INSERTs with ON CONFLICT (compiling one per request
# costs more than running it). Both databases take this statement as written.
_CLAIM = (
    "INSERT INTO {table} (scope, key, fingerprint, resource_id, created_at) "
    "VALUES (:scope, :key, :fingerprint, :resource_id, :created_at) "
    "ON CONFLICT DO NOTHING RETURNING key"
)


class KeyRow(NamedTuple):
    """A stored key: the idempotency tables' columns, in their order."""

    scope: str
    key: str
    fingerprint: str
    resource_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class RequestKey:
    """What the edge knows about a request: its id (may be empty) and a hash of its content."""

    key: str
    fingerprint: str

    @property
    def present(self) -> bool:
        return bool(self.key)


@dataclass
class Replays:
    """What one call answered from the store: all of it (`whole`), or the batch items listed."""

    whole: bool = False
    items: set[int] = field(default_factory=set)


# Installed per call by the RPC layer (like the caller's identity): a use case reports a replay
# without its answer's type changing, and a call outside an RPC (a worker) reports to nobody.
_replays: ContextVar[Replays | None] = ContextVar("settle_replays", default=None)


def watch_replays() -> tuple[Replays, Token]:
    replays = Replays()
    return replays, _replays.set(replays)


def stop_watching(token: Token) -> None:
    _replays.reset(token)


def mark_replayed() -> None:
    """This call's answer is an earlier request's, found by its request id."""
    if (replays := _replays.get()) is not None:
        replays.whole = True


def mark_replayed_items(items: Collection[int], of: int) -> None:
    """These items of a batch of `of` were answered by earlier requests; all of them: the whole."""
    if (replays := _replays.get()) is not None and items:
        replays.items.update(items)
        replays.whole = len(replays.items) == of


def key_reused() -> InvalidArgument:
    return InvalidArgument.of("request_id", "was already used for a different request")


class IdempotencyStore:
    def __init__(self, model, clock: Clock):
        self.model = model
        self.clock = clock
        # Built once: a statement built per call costs more CPU than running it.
        key = (model.scope == bindparam("k_scope")) & (model.key == bindparam("k_key"))
        self._find = select(*(model.__table__.c[c] for c in KeyRow._fields)).where(key)
        self._find_many = select(model.__table__).where(
            model.scope == bindparam("k_scope"), model.key.in_(bindparam("k_keys", expanding=True))
        )
        self._record = insert(model.__table__)
        self._complete = update(model.__table__).where(key).values(resource_id=bindparam("rid"))
        self._claim = text(_CLAIM.format(table=model.__tablename__)).bindparams(
            bindparam("created_at", type_=model.__table__.c.created_at.type)
        )

    async def find(self, unit: AsyncSession | AsyncConnection, scope: str, request: RequestKey):
        """The earlier row for this key, or None; a key reused for other content is refused. On a
        reading connection (a create's look-up before its transaction) it runs on the driver."""
        conn = unit if isinstance(unit, AsyncConnection) else await unit.connection()
        found = await fetch_rows(conn, self._find, {"k_scope": scope, "k_key": request.key})
        row = KeyRow._make(found[0]) if found else None
        if row is not None and row.fingerprint != request.fingerprint:
            raise key_reused()
        return row

    async def find_many(
        self, unit: AsyncSession | AsyncConnection, scope: str, keys: Collection[str]
    ):
        """key -> the earlier row, for those of `keys` already used in `scope` (one statement).
        Comparing fingerprints is the caller's: a batch answers a reused key item by item."""
        if not keys:
            return {}
        found = await unit.execute(self._find_many, {"k_scope": scope, "k_keys": list(keys)})
        return {row.key: row for row in found}

    async def record_many(
        self, session: AsyncSession, scope: str, done: Sequence[tuple[RequestKey, str]]
    ) -> None:
        """Stores each (request, id of what it made) in one multi-row INSERT. A concurrent twin of
        one of them makes it fail on the primary key (AlreadyExists; the transaction is spent):
        the caller runs again and finds the twin's row."""
        if done:
            now = self.clock.now()
            rows = [
                {
                    "scope": scope,
                    "key": request.key,
                    "fingerprint": request.fingerprint,
                    "resource_id": resource_id,
                    "created_at": now,
                }
                for request, resource_id in done
            ]
            try:
                await session.execute(self._record, rows)
            except IntegrityError as taken:
                raise AlreadyExists("a request id was recorded by a concurrent twin") from taken

    async def claim(
        self, session: AsyncSession, scope: str, request: RequestKey, resource_id: str | None = None
    ):
        """Returns the earlier row for this key, or None after reserving the key (complete
        already when the resource's id is known before it is created)."""
        claimed = await session.scalar(
            self._claim,
            {
                "scope": scope,
                "key": request.key,
                "fingerprint": request.fingerprint,
                "resource_id": resource_id,
                "created_at": self.clock.now(),
            },
        )
        if claimed is not None:
            return None
        # The conflicting row is committed (a duplicate in flight was waited for), and this
        # statement's snapshot is newer than the insert's (READ COMMITTED; SQLite: one writer).
        return await self.find(session, scope, request)

    async def complete(self, session: AsyncSession, scope: str, key: str, resource_id: str) -> None:
        params = {"k_scope": scope, "k_key": key, "rid": resource_id}
        await session.execute(self._complete, params)


async def run_once(
    db: Database,
    store: IdempotencyStore,
    scope: str,
    request: RequestKey,
    create: Callable[[AsyncSession], Awaitable[tuple[str, T]]],
    replay: Callable[[AsyncSession, str], Awaitable[T]],
    *,
    resource_id: str | None = None,
) -> T:
    """Runs `create` (returning (resource_id, result)) once per request key, in one transaction.

    Without a key, `create` just runs. With a key seen before, `replay(resource_id)` answers.
    `resource_id`, when the caller chose the new resource's id beforehand (and `create` uses
    it), is stored with the key in its one INSERT. A create that loses a race on its own unique
    keys (IntegrityError) runs once more, to find what the winner wrote.
    """
    for attempt in range(2):
        try:
            async with db.transaction() as session:
                if not request.present:
                    return (await create(session))[1]
                earlier = await store.claim(session, scope, request, resource_id)
                if earlier is not None:
                    mark_replayed()
                    return await replay(session, earlier.resource_id)
                created_id, result = await create(session)
                if created_id != resource_id:
                    await store.complete(session, scope, request.key, created_id)
                return result
        except IntegrityError:
            if attempt == 1 or not request.present:
                raise
    raise AssertionError("unreachable")
