"""Per-caller resource limits, so that one client (hostile, buggy or just busy) cannot starve the
others: a token bucket (sustained rate plus a burst) and a cap on calls in flight, both per caller.

A caller is its authenticated identity (`user:alice`, `service-account:erp-sync`); a request that
does not authenticate is charged to its client address, so a flood of bad tokens is limited too.
Over a limit the answer is RESOURCE_EXHAUSTED (HTTP 429) with `Retry-After`, counted in
`settle.gateway.limited` by limit kind, and held back for REFUSAL_DELAY_S: a client that ignores
Retry-After and retries at once then costs the gateway a few refusals a second per connection,
not thousands (cheap as one refusal is, thousands a second would starve the others too).

State lives in this process only (one gateway per host; behind several replicas each admits its
share). Idle callers' state is dropped, so the tables stay as small as the set of active callers.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
from opentelemetry.metrics import Meter

from gateway.errors import HttpError

GATEWAY_LIMITED = "settle.gateway.limited"
LIMIT_KINDS = ("rate", "concurrency")
_SWEEP_EVERY = 1024  # admissions between two sweeps of idle buckets
RETRY_AFTER_CONCURRENCY_S = 1  # a call in flight usually ends within the unary deadline's scale
REFUSAL_DELAY_S = 0.5


class Exhausted(HttpError):
    """A caller over one of its limits: 429 / RESOURCE_EXHAUSTED with Retry-After."""

    def __init__(self, kind: str, message: str, retry_after_s: float):
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(
            429,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"{message}; retry after {seconds} s",
            "RATE_LIMITED" if kind == "rate" else "TOO_MANY_CONCURRENT_CALLS",
            {"Retry-After": str(seconds)},
        )
        self.retry_after = str(seconds)

    async def hold_back(self) -> None:
        await asyncio.sleep(REFUSAL_DELAY_S)


@dataclass(frozen=True)
class LimitSettings:
    rate_per_s: float  # sustained calls per second per caller
    burst: int  # calls a quiet caller may make at once
    concurrency: int  # calls in flight per caller


class LimitMetrics:
    """Refusals by limit kind (attribute `limit`: rate or concurrency)."""

    def __init__(self, meter: Meter):
        self._limited = meter.create_counter(
            GATEWAY_LIMITED, unit="{request}", description="Requests refused by a per-caller limit"
        )

    def limited(self, kind: str) -> None:
        assert kind in LIMIT_KINDS
        self._limited.add(1, {"limit": kind})


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, now: float):
        self.tokens = tokens
        self.updated = now


class Limiter:
    def __init__(
        self,
        settings: LimitSettings,
        metrics: LimitMetrics,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._in_flight: dict[str, int] = {}
        self._admitted = 0

    def take(self, caller: str) -> None:
        """One call's token from `caller`'s bucket, or RESOURCE_EXHAUSTED."""
        s, now = self.settings, self.clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = _Bucket(s.burst, now)
        bucket.tokens = min(s.burst, bucket.tokens + (now - bucket.updated) * s.rate_per_s)
        bucket.updated = now
        self._admitted += 1
        if self._admitted % _SWEEP_EVERY == 0:
            self._sweep(now)
        if bucket.tokens < 1:
            self.metrics.limited("rate")
            wait = (1 - bucket.tokens) / s.rate_per_s
            raise Exhausted("rate", "too many requests from this caller", wait)
        bucket.tokens -= 1

    @contextmanager
    def in_flight(self, caller: str) -> Iterator[None]:
        """Holds one of `caller`'s concurrent-call slots for the block, or RESOURCE_EXHAUSTED."""
        current = self._in_flight.get(caller, 0)
        if current >= self.settings.concurrency:
            self.metrics.limited("concurrency")
            raise Exhausted(
                "concurrency",
                "too many calls in flight from this caller",
                RETRY_AFTER_CONCURRENCY_S,
            )
        self._in_flight[caller] = current + 1
        try:
            yield
        finally:
            left = self._in_flight[caller] - 1
            if left:
                self._in_flight[caller] = left
            else:
                del self._in_flight[caller]

    def _sweep(self, now: float) -> None:
        """Drops buckets full again (idle long enough): they would be recreated the same."""
        refill_s = self.settings.burst / self.settings.rate_per_s
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill_s}
