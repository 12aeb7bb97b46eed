"""Transactional outbox (ARCHITECTURE rule 4).

`Outbox.add` stores an event in the caller's transaction: the request message for a consumer's
gRPC method, with the event id as its `request_id` so the consumer applies it once. `OutboxRelay`
delivers pending events: it leases a batch (row locks with SKIP LOCKED, so replicas share the
work), calls the consumer with the trace context of the action that caused the event, then marks
each delivered, or reschedules it with exponential backoff. A consumer that is down delays events;
it never loses them. A consumer with a batch method gets the events of one method leased together in
one call (`batch_senders`, common/outbox_delivery.py), each event still traced and answered on its
own. Given `metrics`, the relay counts delivery outcomes and, every `RelayPolicy.backlog_every_s`,
reports the backlog (pending, parked, age of the oldest pending) by destination and method.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import structlog
from opentelemetry import propagate
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common import outbox_delivery as delivery
from common.clock import Clock
from common.db import Database
from common.db.id_set import in_ids
from common.db.outbox_model import NORMAL, URGENT
from common.ids import new_id
from common.metrics import (
    OUTBOX_DEAD,
    OUTBOX_LAG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PARKED,
    OUTBOX_PENDING,
    SettleMetrics,
)
from common.outbox_delivery import BatchSender, LeasedEvent
from common.workers import Wake, run_worker

__all__ = [
    "NORMAL",
    "URGENT",
    "Backlog",
    "BatchSender",
    "LeasedEvent",
    "MethodBacklog",
    "Outbox",
    "OutboxRelay",
    "RelayPolicy",
]

log = structlog.get_logger("settle.outbox")
# Retrying cannot fix these: the event is parked (dead) and shows up in the outbox for a person.
PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED}


class Outbox:
    def __init__(self, model, clock: Clock):
        self.model = model
        self.clock = clock

    def add(
        self,
        session: AsyncSession,
        *,
        destination: str,
        method: str,
        request,
        subject: str = "",
        priority: int = NORMAL,
    ) -> str:
        row = self.row(
            destination=destination,
            method=method,
            request=request,
            subject=subject,
            priority=priority,
        )
        session.add(self.model(**row))
        return row["id"]

    def row(
        self,
        *,
        destination: str,
        method: str,
        request,
        subject: str = "",
        priority: int = NORMAL,
        now: datetime | None = None,
        traceparent: str | None = None,
    ) -> dict:
        """The event's column values, for a caller inserting many at once (Core, one statement):
        the event id is set as the request's `request_id`, the current trace goes with it (or the
        span the caller names by its `traceparent`)."""
        event_id = new_id()
        if "request_id" in request.DESCRIPTOR.fields_by_name:
            request.request_id = event_id
        if traceparent is None:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            traceparent = carrier.get("traceparent")
        now = now or self.clock.now()
        return {
            "id": event_id,
            "destination": destination,
            "method": method,
            "payload": request.SerializeToString(),
            "subject": subject,
            "traceparent": traceparent,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
            "priority": priority,
        }


@dataclass(frozen=True)
class RelayPolicy:
    batch: int = 100  # events leased per pass
    # unary calls in flight at once (events sent through a batch sender travel in one call): a
    # consumer's connection pool answers a few at a time; more only queue there past the deadline
    in_flight: int = 20
    lease: timedelta = timedelta(seconds=30)
    poll_s: float = 0.5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 60.0
    deadline_s: float = 5.0
    # Retries that still fail after this many attempts (about an hour at the backoff ceiling) are
    # parked for a person: a precondition that never comes true must not be retried forever.
    max_attempts: int = 60
    backlog_every_s: float = 15.0  # how often the backlog gauges are refreshed (with metrics)


@dataclass(frozen=True)
class Backlog:
    destination: str
    pending: int
    dead: int  # parked for a person (discarded events are not counted)
    oldest_pending_age_s: float  # delivery lag; 0 when nothing is pending


@dataclass(frozen=True)
class MethodBacklog:
    destination: str
    method: str  # full gRPC method path
    pending: int
    parked: int
    oldest_pending_age_s: float  # 0 when nothing is pending


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        model,
        clock: Clock,
        channels: Mapping[str, grpc.aio.Channel],
        policy: RelayPolicy = RelayPolicy(),
        *,
        metrics: SettleMetrics | None = None,
        batch_senders: Mapping[str, BatchSender] | None = None,
    ):
        self.db, self.model, self.clock = db, model, clock
        self.channels = channels
        self.policy = policy
        self.metrics = metrics
        self.batch_senders = dict(batch_senders or {})  # event method -> its batch sender
        self.wake = Wake()  # for AfterCommit.listen
        self._backlog_due = 0.0
        # Built once (SQLAlchemy reuses their compiled form), the ids one parameter: a relay in a
        # burst runs them several times a second, and building them was a third of its lease.
        t = model.__table__
        self._next_batch = (
            select(t.c.id, t.c.destination, t.c.method, t.c.payload, t.c.subject,
                   t.c.traceparent, t.c.attempts)
            .where(t.c.delivered_at.is_(None), t.c.dead_at.is_(None),
                   t.c.available_at <= bindparam("now"))
            .order_by(t.c.priority, t.c.available_at, t.c.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        self._take_lease = (
            update(t)
            .where(in_ids(t.c.id))
            .values(available_at=bindparam("until"), attempts=t.c.attempts + 1)
        )
        self._mark_delivered = (
            update(t).where(in_ids(t.c.id)).values(delivered_at=bindparam("now"), last_error=None)
        )

    def notify(self) -> None:
        """Called after a commit that wrote events: deliver now instead of at the next poll."""
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("outbox relay", self._pass, stop, self.wake, retry_s=self.policy.poll_s)

    async def _pass(self) -> float:
        await self._maybe_report_backlog()
        return 0.0 if await self.relay_once() else self.policy.poll_s

    async def backlog_by_method(self) -> list[MethodBacklog]:
        """Pending and parked events per destination and method: one GROUP BY."""
        m, now = self.model, self.clock.now()
        is_pending = m.delivered_at.is_(None) & m.dead_at.is_(None)
        is_parked = m.dead_at.is_not(None) & m.discarded_at.is_(None)
        async with self.db.reading_connection() as conn:
            rows = (
                await conn.execute(
                    select(
                        m.destination,
                        m.method,
                        func.count().filter(is_pending),
                        func.count().filter(is_parked),
                        func.min(m.created_at).filter(is_pending),
                    )
                    .where(m.delivered_at.is_(None), m.discarded_at.is_(None))
                    .group_by(m.destination, m.method)
                    .order_by(m.destination, m.method)
                )
            ).all()
        return [
            MethodBacklog(destination, method, pending, parked, _age(now, oldest))
            for destination, method, pending, parked, oldest in rows
        ]

    async def backlog(self) -> list[Backlog]:
        """Per destination (every channel's, and any other found in the table)."""
        return _by_destination(await self.backlog_by_method(), self.channels)

    async def _maybe_report_backlog(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        if self.metrics is None or loop_now < self._backlog_due:
            return
        self._backlog_due = loop_now + self.policy.backlog_every_s
        try:
            with suppress_instrumentation():
                rows = await self.backlog_by_method()
        except Exception:  # the relay pass right after will log the database problem
            rows = []
        report = self.metrics.report
        # A destination without events still shows 0 (method ""), so its series never vanish.
        quiet = [MethodBacklog(d, "", 0, 0, 0.0) for d in self.channels if d not in
                 {r.destination for r in rows}]  # fmt: skip
        labelled = [(r, {"destination": r.destination, "method": r.method}) for r in rows + quiet]
        report(OUTBOX_PENDING, [(r.pending, a) for r, a in labelled if r.pending or not r.parked])
        report(OUTBOX_PARKED, [(r.parked, a) for r, a in labelled if r.parked or not r.pending])
        report(OUTBOX_OLDEST_AGE, [(r.oldest_pending_age_s, a) for r, a in labelled if r.pending])
        totals = _by_destination(rows, self.channels)
        report(OUTBOX_DEAD, [(b.dead, {"destination": b.destination}) for b in totals])
        report(OUTBOX_LAG, [(b.oldest_pending_age_s, {"destination": b.destination})
                            for b in totals])  # fmt: skip

    async def relay_once(self) -> int:
        with suppress_instrumentation():  # an idle poll twice a second is not a trace worth keeping
            leased = await self._lease()
        if not leased:
            return 0
        outcomes = await delivery.deliver(
            leased,
            self.channels,
            self.batch_senders,
            self.policy.deadline_s,
            in_flight=self.policy.in_flight,
        )
        await self._record(outcomes)
        return len(leased)

    async def _lease(self) -> list[LeasedEvent]:
        """The next batch, most urgent first (then oldest), leased for `policy.lease`."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            batch = {"now": now, "limit": self.policy.batch}
            rows = (await session.execute(self._next_batch, batch)).all()
            # by position: a Row's attribute access costs ~25 times a tuple index
            leased = [LeasedEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6] + 1) for r in rows]
            if leased:
                await session.execute(
                    self._take_lease,
                    {"ids": [e.id for e in leased], "until": now + self.policy.lease},
                )
        return leased

    def _backoff(self, attempts: int) -> timedelta:
        ceiling = min(self.policy.max_backoff_s, self.policy.base_backoff_s * 2 ** (attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))

    async def _record(self, outcomes: list[tuple[LeasedEvent, BaseException | None]]) -> None:
        """Delivered events are marked in one statement; failures (rare) one by one."""
        m, now = self.model, self.clock.now()
        delivered = [event for event, error in outcomes if error is None]
        counted = [(event.destination, "delivered") for event in delivered]
        async with self.db.transaction() as session:
            if delivered:
                await session.execute(
                    self._mark_delivered, {"ids": [event.id for event in delivered], "now": now}
                )
            for event, error in outcomes:
                if error is not None:
                    values = self._failed(event, error, now)
                    counted.append((event.destination, "dead" if "dead_at" in values else "retry"))
                    await session.execute(update(m).where(m.id == event.id).values(**values))
        if self.metrics is not None:  # counted once committed
            for destination, outcome in counted:
                self.metrics.outbox_delivery(destination, outcome)

    def _failed(self, event: LeasedEvent, error: BaseException, now) -> dict:
        code, text = None, repr(error)
        if isinstance(error, grpc.aio.AioRpcError):
            code = error.code()
            text = f"{code.name}: {error.details()}"
        log.warning(
            "outbox delivery failed",
            event_id=event.id,
            subject=event.subject,
            method=event.method,
            attempt=event.attempts,
            error=text,
        )
        values: dict = {"last_error": text[:2000]}
        if code in PERMANENT or event.attempts >= self.policy.max_attempts:
            values["dead_at"] = now
        else:
            values["available_at"] = now + self._backoff(event.attempts)
        return values


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def _by_destination(rows: list[MethodBacklog], channels: Mapping[str, object]) -> list[Backlog]:
    totals: dict[str, Backlog] = {d: Backlog(d, 0, 0, 0.0) for d in channels}
    for r in rows:
        t = totals.get(r.destination, Backlog(r.destination, 0, 0, 0.0))
        totals[r.destination] = Backlog(
            r.destination,
            t.pending + r.pending,
            t.dead + r.parked,
            max(t.oldest_pending_age_s, r.oldest_pending_age_s),
        )
    return [totals[d] for d in sorted(totals)]
