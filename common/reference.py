"""Reference rows (code lists, policies, calendars) that nearly every request reads and that
change rarely, kept in the process for a short time so a request does not re-read them.

A change made through this process is seen at once (`forget()` after its commit); one made on
another replica, or by SQL, within `ttl_s`. A load that raced a `forget()` is used but not kept.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
REFERENCE_TTL_S = 1.0


class ReferenceData:
    def __init__(self, ttl_s: float = REFERENCE_TTL_S, now: Callable[[], float] = time.monotonic):
        self._ttl_s, self._now = ttl_s, now
        self._kept: dict[Hashable, tuple[float, object]] = {}
        self._generation = 0

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        kept = self._kept.get(key)
        now = self._now()
        if kept is not None and now - kept[0] < self._ttl_s:
            return kept[1]  # type: ignore[return-value]
        generation = self._generation
        value = await load()
        if generation == self._generation:
            self._kept[key] = (now, value)
        return value

    def forget(self) -> None:
        self._generation += 1
        self._kept.clear()
