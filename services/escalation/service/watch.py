"""Live delivery: a stream that replays the feed after a cursor, then follows it.

Commits in this process wake the streams at once; a poll catches what other replicas commit.
Because sequences become visible in order (journal.py), "everything after my cursor" is exact:
a client that reconnects with its last cursor misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar

from common.workers import Wake
from services.escalation.data import reads
from services.escalation.data.reads import EventRecord
from services.escalation.service import access
from services.escalation.service.context import EscalationContext

T = TypeVar("T")


class _EveryStream(Wake):
    """The Wake the after-commit signal sets: it wakes every open stream, each of which clears
    its own Wake when it reads."""

    def __init__(self) -> None:
        super().__init__()
        self.streams: set[Wake] = set()

    def set(self) -> None:
        for stream in self.streams:
            stream.set()


class Feed:
    def __init__(self, poll_s: float = 1.0, batch: int = 200):
        self.poll_s = poll_s
        self.batch = batch
        self.wake = _EveryStream()  # for AfterCommit.listen
        self._closed = asyncio.Event()

    def close(self) -> None:
        """Ends every stream (server shutdown); clients reconnect with their cursor."""
        self._closed.set()

    @contextlib.contextmanager
    def _stream_wake(self) -> Iterator[Wake]:
        wake = Wake()
        self.wake.streams.add(wake)
        try:
            yield wake
        finally:
            self.wake.streams.discard(wake)

    async def follow(
        self, ctx: EscalationContext, team: str | None, cursor: int | None
    ) -> AsyncIterator[EventRecord]:
        team = access.visible_team(team)
        if cursor is None:  # no cursor: start with the next change
            cursor = await _whole(_last_sequence(ctx))
        with self._stream_wake() as wake:
            while not self._closed.is_set():
                wake.clear()  # before reading: a commit after the read still wakes us
                rows = await _whole(_events_after(ctx, cursor, team, self.batch))
                for row in rows:
                    yield row
                    cursor = row.sequence
                if len(rows) < self.batch:
                    await wake.wait(self._closed, self.poll_s)


# A stream is cancelled whenever its client goes away, often in the middle of a read. Each read is
# its own task, shielded, so it completes and hands its connection back instead of being cut
# mid-query (cut reads left their cleanup to shutdown: now and then a test teardown that never
# ended, or a connection left to the garbage collector). One statement each, without a
# transaction: on SQLite a transaction would take the write lock once a second per open stream.
async def _whole(read: Awaitable[T]) -> T:
    return await asyncio.shield(asyncio.ensure_future(read))


async def _last_sequence(ctx: EscalationContext) -> int:
    async with ctx.db.reading() as session:
        return await reads.last_sequence(session)


async def _events_after(
    ctx: EscalationContext, cursor: int, team: str | None, batch: int
) -> list[EventRecord]:
    async with ctx.db.reading() as session:
        return await reads.events_after(session, cursor, team, batch)
