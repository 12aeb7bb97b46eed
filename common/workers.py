"""One worker loop and one after-commit wake-up, for every background loop of every service
(sweepers, relays, dispatchers, gauges).

A worker polls: each pass says how long until the next one. A commit in this process can cut that
wait short: the unit of work calls `AfterCommit.changed()` once it has committed, which sets the
`Wake` of every worker that listens (and wants what was touched). Polling stays the fallback,
since other replicas' commits never pass through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from common.errors import Unavailable

log = structlog.get_logger("settle.workers")


class Wake:
    """An asyncio.Event whose wait is bounded and also ends when the process stops."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, stop: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
        """Returns when woken, when `stop` is set or after `timeout` seconds, whichever is first.
        A timeout of 0 only yields to the other tasks once."""
        if timeout <= 0 or stop.is_set() or self._event.is_set():
            await asyncio.sleep(0)
            return
        waits = [asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()


class AfterCommit:
    """What a unit of work calls after it commits. A listener may give `wants`, a test of what
    the commit says it touched (any value the service chooses, e.g. the deliveries it wrote or
    the earliest clock it set): a commit that touched nothing it wants leaves it asleep."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Wake, Callable[[Any], bool] | None]] = []

    def listen(self, wake: Wake, wants: Callable[[Any], bool] | None = None) -> None:
        self._listeners.append((wake, wants))

    def changed(self, touched: Any | None = None) -> None:
        """Wakes the listeners whose `wants(touched)` is true; all of them when `touched` is
        None (the commit did not say what it touched)."""
        for wake, wants in self._listeners:
            if touched is None or wants is None or wants(touched):
                wake.set()


async def run_worker(
    name: str,
    pass_once: Callable[[], Awaitable[float]],
    stop: asyncio.Event,
    wake: Wake,
    *,
    retry_s: float,
) -> None:
    """Runs `pass_once` until `stop` is set. Each pass returns the seconds until the next one
    (0: at once, there is more to do); the wait ends early when `wake` is set. A pass that raises
    (the database is down...) is logged and tried again after `retry_s`: the worker stays alive."""
    while not stop.is_set():
        wake.clear()  # before the pass, so a commit during the pass is not missed
        try:
            delay = await pass_once()
        except Unavailable as exc:
            # An outage, not a bug: one line, no traceback. Rendering tracebacks (with locals, in
            # development) for every worker's every retry held the event loop for seconds and
            # starved the requests that should answer UNAVAILABLE at once.
            log.warning("worker pass failed: database unavailable", worker=name, error=str(exc))
            delay = retry_s
        except Exception:
            log.exception("worker pass failed", worker=name)
            delay = retry_s
        await wake.wait(stop, delay)
