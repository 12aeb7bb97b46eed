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

import structlog

from common.clock import Clock
from common.db import Database
from common.workers import Wake, run_worker
from services.escalation.data import deliveries
from services.escalation.data.deliveries import LeasedDelivery
from services.escalation.domain.webhooks import RetryPolicy
from services.escalation.outbound.webhooks import WebhookClient

log = structlog.get_logger("settle.escalation.webhooks")


@dataclass(frozen=True)
class DispatchPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 5.0
    lease: timedelta = timedelta(seconds=60)  # longer than any attempt can take
    concurrency: int = 32
    per_endpoint: int = 4
    poll_s: float = 1.0
    shutdown_grace_s: float = 1.0  # for attempts under way when the process stops


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        client: WebhookClient,
        policy: DispatchPolicy = DispatchPolicy(),
    ):
        self.db, self.clock, self.client, self.policy = db, clock, client, policy
        self.wake = Wake()  # for AfterCommit.listen
        self._inflight: dict[asyncio.Task, str] = {}  # task -> subscription id

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker(
            "webhook dispatcher", self._pass, stop, self.wake, retry_s=self.policy.poll_s
        )
        if self._inflight:  # a moment for attempts under way; an unfinished lease just expires
            _, unfinished = await asyncio.wait(
                list(self._inflight), timeout=self.policy.shutdown_grace_s
            )
            for task in unfinished:
                task.cancel()

    async def _pass(self) -> float:
        """Starts an attempt per free slot; again at once when every slot found work."""
        free = self.policy.concurrency - len(self._inflight)
        if free <= 0:
            return self.policy.poll_s  # a finished attempt wakes the loop (_done)
        leased = await self._lease(free)
        for delivery in leased:
            task = asyncio.create_task(self._attempt(delivery))
            self._inflight[task] = delivery.subscription_id
            task.add_done_callback(self._done)
        return 0.0 if len(leased) == free else self.policy.poll_s

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.pop(task, None)
        self.wake.set()  # a slot is free

    async def dispatch_once(self) -> int:
        """One pass, waiting for every attempt (for tests and tools): returns attempts made."""
        leased = await self._lease(self.policy.concurrency)
        await asyncio.gather(*(self._attempt(d) for d in leased))
        return len(leased)

    async def _lease(self, limit: int) -> list[LeasedDelivery]:
        busy: dict[str, int] = {}
        for subscription_id in self._inflight.values():
            busy[subscription_id] = busy.get(subscription_id, 0) + 1
        async with self.db.transaction() as session:
            return await deliveries.lease(
                session,
                self.clock.now(),
                limit,
                per_endpoint=self.policy.per_endpoint,
                full=[s for s, n in busy.items() if n >= self.policy.per_endpoint],
                lease_for=self.policy.lease,
            )

    async def _attempt(self, delivery: LeasedDelivery) -> None:
        error = await self.client.post(delivery)
        try:
            await self._record(delivery, error)
        except Exception:  # the lease expires and the delivery is tried again
            log.exception("webhook outcome not recorded", delivery_id=delivery.id)

    async def _record(self, d: LeasedDelivery, error: str | None) -> None:
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
            await deliveries.record_outcome(session, d, values)
