"""Transactional outbox (ARCHITECTURE rule 4).

`Outbox.add` stores an event in the caller's transaction: the request message for a consumer's
gRPC method, with the event id as its `request_id` so the consumer applies it once. `OutboxRelay`
delivers pending events: it leases a batch (row locks with SKIP LOCKED, so replicas share the
work), calls the consumer with the trace context of the action that caused the event, then marks
each delivered, or reschedules it with exponential backoff. A consumer that is down delays events;
it never loses them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import grpc
import structlog
from opentelemetry import propagate, trace
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.db import Database
from common.ids import new_id

log = structlog.get_logger("settle.outbox")
tracer = trace.get_tracer("settle.outbox")
EVENT_ID = "x-event-id"
# Retrying cannot fix these: the event is parked (dead) and shows up in the outbox for a person.
PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED}


class Outbox:
    def __init__(self, model, clock: Clock):
        self.model = model
        self.clock = clock

    def add(
        self, session: AsyncSession, *, destination: str, method: str, request, subject: str = ""
    ) -> str:
        event_id = new_id()
        if "request_id" in request.DESCRIPTOR.fields_by_name:
            request.request_id = event_id
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        now = self.clock.now()
        session.add(
            self.model(
                id=event_id,
                destination=destination,
                method=method,
                payload=request.SerializeToString(),
                subject=subject,
                traceparent=carrier.get("traceparent"),
                created_at=now,
                available_at=now,
                attempts=0,
            )
        )
        return event_id


@dataclass(frozen=True)
class _Leased:
    id: str
    destination: str
    method: str
    payload: bytes
    subject: str
    traceparent: str | None
    attempts: int


@dataclass(frozen=True)
class RelayPolicy:
    batch: int = 100
    lease: timedelta = timedelta(seconds=30)
    poll_s: float = 0.5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 60.0
    deadline_s: float = 5.0


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        model,
        clock: Clock,
        channels: Mapping[str, grpc.aio.Channel],
        policy: RelayPolicy = RelayPolicy(),
    ):
        self.db, self.model, self.clock = db, model, clock
        self.channels = channels
        self.policy = policy
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that wrote events: deliver now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                delivered = await self.relay_once()
            except Exception:  # database down, etc.: keep the worker alive and try again
                log.exception("outbox relay pass failed")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
            await asyncio.wait(
                waits, timeout=self.policy.poll_s, return_when=asyncio.FIRST_COMPLETED
            )
            for w in waits:
                w.cancel()

    async def relay_once(self) -> int:
        leased = await self._lease()
        if not leased:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(e) for e in leased))
        await self._record(list(zip(leased, outcomes, strict=True)))
        return len(leased)

    async def _lease(self) -> list[_Leased]:
        m, now = self.model, self.clock.now()
        async with self.db.transaction() as session:
            rows = (
                (
                    await session.execute(
                        select(m)
                        .where(m.delivered_at.is_(None), m.dead_at.is_(None), m.available_at <= now)
                        .order_by(m.available_at, m.id)
                        .limit(self.policy.batch)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            leased = [
                _Leased(
                    r.id,
                    r.destination,
                    r.method,
                    r.payload,
                    r.subject,
                    r.traceparent,
                    r.attempts + 1,
                )
                for r in rows
            ]
            if rows:
                await session.execute(
                    update(m)
                    .where(m.id.in_([r.id for r in rows]))
                    .values(available_at=now + self.policy.lease, attempts=m.attempts + 1)
                )
        return leased

    async def _deliver(self, event: _Leased) -> grpc.aio.AioRpcError | Exception | None:
        parent = (
            propagate.extract({"traceparent": event.traceparent}) if event.traceparent else None
        )
        with tracer.start_as_current_span(
            f"outbox deliver {event.method.rsplit('/', 1)[-1]}",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "settle.event.id": event.id,
                "settle.event.attempt": event.attempts,
                "messaging.destination.name": event.destination,
            },
        ):
            channel = self.channels.get(event.destination)
            if channel is None:
                return LookupError(f"no channel for destination {event.destination!r}")
            try:
                await channel.unary_unary(event.method)(
                    event.payload, timeout=self.policy.deadline_s, metadata=((EVENT_ID, event.id),)
                )
                return None
            except grpc.aio.AioRpcError as exc:
                return exc

    def _backoff(self, attempts: int) -> timedelta:
        ceiling = min(self.policy.max_backoff_s, self.policy.base_backoff_s * 2 ** (attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))

    async def _record(self, outcomes: list[tuple[_Leased, Exception | None]]) -> None:
        m, now = self.model, self.clock.now()
        async with self.db.transaction() as session:
            for event, error in outcomes:
                if error is None:
                    values = {"delivered_at": now, "last_error": None}
                else:
                    code = error.code() if isinstance(error, grpc.aio.AioRpcError) else None
                    text = f"{code.name}: {error.details()}" if code else repr(error)
                    log.warning(
                        "outbox delivery failed",
                        event_id=event.id,
                        subject=event.subject,
                        method=event.method,
                        attempt=event.attempts,
                        error=text,
                    )
                    values = {"last_error": text[:2000]}
                    if code in PERMANENT:
                        values["dead_at"] = now
                    else:
                        values["available_at"] = now + self._backoff(event.attempts)
                await session.execute(update(m).where(m.id == event.id).values(**values))
