"""The live team queue: the gateway's escalation watch relayed to the browser.

A browser's EventSource cannot send the bearer token the gateway wants, only the session cookie;
so the console opens the watch with the session's token and passes the gateway's Server-Sent
Events through unchanged (`id:` lines included, so a reconnecting EventSource's Last-Event-ID
resumes where it stopped). Bounded: at most one relay per session, a newer one (another tab, a
reconnect) ends the older, which tells its page (`event: replaced`) instead of reconnecting and
taking the stream back; a relay ends with the session's life, and with the page (a closed
connection is noticed at the next heartbeat the gateway sends, at most 15 s later).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx

from console.gateway import Gateway
from console.session import Session

WATCH = "/v1/escalations:watch"
REPLACED = "event: replaced\ndata: {}\n\n"


class Relays:
    """The open relay of each session, keyed by the session's CSRF token (one per sign-in)."""

    def __init__(self) -> None:
        self._open: dict[str, asyncio.Event] = {}

    def claim(self, session: Session) -> asyncio.Event:
        """This relay's stop signal; the session's previous relay, if any, is told to stop."""
        previous = self._open.get(session.csrf)
        if previous is not None:
            previous.set()
        self._open[session.csrf] = stop = asyncio.Event()
        return stop

    def release(self, session: Session, stop: asyncio.Event) -> None:
        if self._open.get(session.csrf) is stop:
            del self._open[session.csrf]


async def open_relay(
    gateway: Gateway, relays: Relays, session: Session, cursor: str, last_event_id: str
) -> AsyncIterator[str]:
    """Opens the watch (an `ApiError` if the gateway refuses it) and returns the event stream."""
    resources = AsyncExitStack()
    response: httpx.Response = await resources.enter_async_context(
        gateway.events(
            session.token, WATCH, last_event_id, cursor=None if last_event_id else cursor
        )
    )
    stop = relays.claim(session)
    resources.callback(relays.release, session, stop)
    return _relay(response, stop, session.expires, resources)


async def _relay(
    response: httpx.Response, stop: asyncio.Event, expires: float, resources: AsyncExitStack
) -> AsyncIterator[str]:
    stopped = asyncio.ensure_future(stop.wait())
    lines = response.aiter_lines()
    try:
        while True:
            line = asyncio.ensure_future(anext(lines, None))
            done, _ = await asyncio.wait(
                {line, stopped},
                timeout=max(expires - time.time(), 0),
                return_when="FIRST_COMPLETED",
            )
            if line not in done:
                line.cancel()
                if stopped in done:
                    yield REPLACED
                return  # replaced, or the session ended
            try:
                text = line.result()
            except httpx.HTTPError:
                text = None
            if text is None:
                return  # the gateway ended the stream (its lifetime) or went away: reconnect
            yield text + "\n"
    finally:
        stopped.cancel()
        await resources.aclose()
