"""Apply each request id or event id once (AIP-155 request ids, and the inbox of the outbox).

The key row is inserted first, inside the use case's transaction: a concurrent duplicate blocks on
the primary key until the first commits, then fails and is re-run by `run_once`, which then finds
the key and returns the first result. A retry with the same key but other content is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.db import Database
from common.errors import InvalidArgument

T = TypeVar("T")


@dataclass(frozen=True)
class RequestKey:
    """What the edge knows about a request: its id (may be empty) and a hash of its content."""

    key: str
    fingerprint: str

    @property
    def present(self) -> bool:
        return bool(self.key)


class IdempotencyStore:
    def __init__(self, model, clock: Clock):
        self.model = model
        self.clock = clock

    async def claim(self, session: AsyncSession, scope: str, request: RequestKey):
        """Returns the earlier row for this key, or None after reserving the key."""
        row = await session.scalar(
            select(self.model).where(self.model.scope == scope, self.model.key == request.key)
        )
        if row is not None:
            if row.fingerprint != request.fingerprint:
                raise InvalidArgument.of("request_id", "was already used for a different request")
            return row
        session.add(
            self.model(
                scope=scope,
                key=request.key,
                fingerprint=request.fingerprint,
                created_at=self.clock.now(),
            )
        )
        await session.flush()
        return None

    async def complete(self, session: AsyncSession, scope: str, key: str, resource_id: str) -> None:
        row = await session.get(self.model, (scope, key))
        row.resource_id = resource_id


async def run_once(
    db: Database,
    store: IdempotencyStore,
    scope: str,
    request: RequestKey,
    create: Callable[[AsyncSession], Awaitable[tuple[str, T]]],
    replay: Callable[[AsyncSession, str], Awaitable[T]],
) -> T:
    """Runs `create` (returning (resource_id, result)) once per request key, in one transaction.

    Without a key, `create` just runs. With a key seen before, `replay(resource_id)` answers.
    """
    for attempt in range(2):
        try:
            async with db.transaction() as session:
                if not request.present:
                    return (await create(session))[1]
                earlier = await store.claim(session, scope, request)
                if earlier is not None:
                    return await replay(session, earlier.resource_id)
                resource_id, result = await create(session)
                await store.complete(session, scope, request.key, resource_id)
                return result
        except IntegrityError:
            if attempt == 1 or not request.present:
                raise
    raise AssertionError("unreachable")
