"""The webhook dispatcher: POSTs each pending delivery, signed, and retries with backoff.

Every delivery is its own row, leased with FOR UPDATE SKIP LOCKED (replicas share the work, a
lease that expires is taken again) and sent as its own task: a slow or failing endpoint ties up at
most `per_endpoint` slots and its own retries, never the other endpoints' deliveries. Delivery is
at-least-once; receivers deduplicate on X-Settle-Delivery.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import structlog
from sqlalchemy import func, select, update

from common.clock import Clock
from common.db import Database
from services.escalation.data.models import DeliveryRow, EventRow, SubscriptionRow
from services.escalation.domain.webhooks import RetryPolicy, sign

log = structlog.get_logger("settle.escalation.webhooks")
USER_AGENT = "Settle-Webhooks/1"


@dataclass(frozen=True)
class DispatchPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 5.0
    lease: timedelta = timedelta(seconds=60)  # longer than any attempt can take
    concurrency: int = 32
    per_endpoint: int = 4
    poll_s: float = 1.0
    shutdown_grace_s: float = 1.0  # for attempts under way when the process stops


@dataclass(frozen=True)
class _Leased:
    id: str
    subscription_id: str
    endpoint: str
    secret: str = field(repr=False)  # reprs end up in tracebacks, tracebacks in logs
    event_type: str = ""
    body: bytes = field(default=b"", repr=False)  # carries notes: personal data
    attempts: int = 0


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        client: httpx.AsyncClient,
        policy: DispatchPolicy = DispatchPolicy(),
    ):
        self.db, self.clock, self.client, self.policy = db, clock, client, policy
        self._wake = asyncio.Event()
        self._inflight: dict[asyncio.Task, str] = {}  # task -> subscription id

    def notify(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            free = self.policy.concurrency - len(self._inflight)
            leased: list[_Leased] = []
            if free > 0:
                try:
                    leased = await self._lease(free)
                except Exception:  # database down: keep the worker alive and try again
                    log.exception("webhook lease failed")
            for delivery in leased:
                task = asyncio.create_task(self._attempt(delivery))
                self._inflight[task] = delivery.subscription_id
                task.add_done_callback(self._done)
            if leased and len(leased) == free:
                continue
            waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
            await asyncio.wait(
                waits, timeout=self.policy.poll_s, return_when=asyncio.FIRST_COMPLETED
            )
            for w in waits:
                w.cancel()
        if self._inflight:  # a moment for attempts under way; an unfinished lease just expires
            _, unfinished = await asyncio.wait(
                list(self._inflight), timeout=self.policy.shutdown_grace_s
            )
            for task in unfinished:
                task.cancel()

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.pop(task, None)
        self._wake.set()  # a slot is free

    async def dispatch_once(self) -> int:
        """One pass, waiting for every attempt (for tests and tools): returns attempts made."""
        leased = await self._lease(self.policy.concurrency)
        await asyncio.gather(*(self._attempt(d) for d in leased))
        return len(leased)

    async def _lease(self, limit: int) -> list[_Leased]:
        now, p = self.clock.now(), self.policy
        busy: dict[str, int] = {}
        for subscription_id in self._inflight.values():
            busy[subscription_id] = busy.get(subscription_id, 0) + 1
        full = [s for s, n in busy.items() if n >= p.per_endpoint]
        due = (DeliveryRow.state == "PENDING") & (DeliveryRow.next_attempt_at <= now)
        # At most per_endpoint per subscription in one lease, earliest first. The window function
        # picks candidates; the locking query re-checks them, as another replica may be faster.
        rank = func.row_number().over(
            partition_by=DeliveryRow.subscription_id,
            order_by=(DeliveryRow.next_attempt_at, DeliveryRow.event_sequence),
        )
        candidates = (
            select(DeliveryRow.id, rank.label("n"))
            .where(due, DeliveryRow.subscription_id.not_in(full))
            .subquery()
        )
        async with self.db.transaction() as session:
            rows = (
                (
                    await session.execute(
                        select(DeliveryRow)
                        .where(
                            due,
                            DeliveryRow.id.in_(
                                select(candidates.c.id).where(candidates.c.n <= p.per_endpoint)
                            ),
                        )
                        .order_by(DeliveryRow.next_attempt_at, DeliveryRow.event_sequence)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return []
            leased = {r.id: (r.subscription_id, r.event_type, r.attempts + 1) for r in rows}
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(list(leased)))
                .values(next_attempt_at=now + p.lease, attempts=DeliveryRow.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            details = await session.execute(
                select(
                    DeliveryRow.id,
                    SubscriptionRow.endpoint_uri,
                    SubscriptionRow.secret,
                    EventRow.body,
                )
                .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
                .join(EventRow, EventRow.sequence == DeliveryRow.event_sequence)
                .where(DeliveryRow.id.in_(list(leased)))
            )
            found = {d.id: d for d in details.all()}
        return [
            _Leased(id_, sub, found[id_].endpoint_uri, found[id_].secret, kind, found[id_].body, n)
            for id_, (sub, kind, n) in leased.items()
        ]

    async def _attempt(self, delivery: _Leased) -> None:
        error = await self._post(delivery)
        try:
            await self._record(delivery, error)
        except Exception:  # the lease expires and the delivery is tried again
            log.exception("webhook outcome not recorded", delivery_id=delivery.id)

    async def _post(self, d: _Leased) -> str | None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Settle-Delivery": d.id,
            "X-Settle-Event": d.event_type,
            "X-Settle-Signature": sign(d.secret, d.body),
        }
        try:
            response = await self.client.post(
                d.endpoint, content=d.body, headers=headers, timeout=self.policy.timeout_s
            )
        except httpx.HTTPError as exc:  # the class says enough; messages can carry the URL
            return type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _record(self, d: _Leased, error: str | None) -> None:
        now, retry = self.clock.now(), self.policy.retry
        if error is None:
            values = {"state": "DELIVERED", "delivered_at": now, "last_error": None}
        else:
            log.warning(
                "webhook delivery failed",
                delivery_id=d.id,
                subscription_id=d.subscription_id,
                attempt=d.attempts,
                error=error,
            )
            values = {"last_error": error}
            if retry.exhausted(d.attempts):
                values["state"] = "FAILED"
            else:
                values["next_attempt_at"] = now + retry.delay(d.attempts)
        async with self.db.transaction() as session:
            # Only while our lease holds: if it expired and someone else took the delivery, their
            # outcome wins (the attempt count moved on).
            await session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == d.id,
                    DeliveryRow.attempts == d.attempts,
                    DeliveryRow.state == "PENDING",
                )
                .values(**values)
            )
