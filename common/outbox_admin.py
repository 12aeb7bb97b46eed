"""SRE's commands on a service's parked outbox events: retry (back to pending, attempts reset,
the relay woken) and discard (kept with a reason, never sent). Only a PARKED event can be acted on
(FAILED_PRECONDITION otherwise). Each action is recorded in `outbox_actions` in the transaction
that takes it: who (the caller's signed identity), when, what, why. A request id makes a call safe
to repeat: the second call finds the first one's action and answers the event as it is now.

The API over these (common/outbox_admin_api.py) and its reads (common/outbox_reads.py) are the same
in every service; each composition root builds one over its own tables and relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import Actor
from common.clock import Clock
from common.db import Database
from common.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from common.ids import new_id
from common.outbox_reads import DISCARD, PARKED, RETRY, EventRecord


@dataclass(frozen=True)
class Action:
    kind: str  # RETRY | DISCARD
    event_id: str
    actor: Actor
    reason: str
    request_id: str  # "" when the caller sent none


class OutboxAdmin:
    def __init__(
        self, db: Database, event_model, action_model, clock: Clock, wake_relay: Callable[[], None]
    ):
        self.db, self.events, self.actions, self.clock = db, event_model, action_model, clock
        self.wake_relay = wake_relay

    async def retry(self, action: Action) -> EventRecord:
        record = await self._act(action)
        self.wake_relay()  # deliver now, not at the next poll
        return record

    async def discard(self, action: Action) -> EventRecord:
        return await self._act(action)

    async def _act(self, action: Action) -> EventRecord:
        now = self.clock.now()
        try:
            async with self.db.transaction() as session:
                if action.request_id and await self._replayed(session, action):
                    return await self._record(session, action.event_id)
                event = await session.get(self.events, action.event_id, with_for_update=True)
                if event is None:
                    raise NotFound(f"outbox event {action.event_id} does not exist")
                state = _record(event).state
                if state != PARKED:
                    raise FailedPrecondition(
                        f"the event is {state}; only a PARKED event can be retried or discarded",
                        reason="OUTBOX_EVENT_NOT_PARKED",
                    )
                if action.kind == RETRY:
                    event.dead_at, event.attempts, event.available_at = None, 0, now
                else:
                    event.discarded_at = now
                session.add(self._action_row(action, now))
                await session.flush()
                return _record(event)
        except IntegrityError:  # a twin call with the same request id committed first
            raise Aborted(
                "a concurrent call with this request_id acted first; send it again",
                reason="CONCURRENT_REQUEST",
            ) from None

    async def _replayed(self, session: AsyncSession, action: Action) -> bool:
        a = self.actions
        done = await session.scalar(select(a).where(a.request_id == action.request_id))
        if done is None:
            return False
        if (done.event_id, done.kind) != (action.event_id, action.kind):
            raise InvalidArgument.of("request_id", "was already used for another action")
        return True

    async def _record(self, session: AsyncSession, event_id: str) -> EventRecord:
        return _record(await session.get(self.events, event_id))

    def _action_row(self, action: Action, now):
        return self.actions(
            id=new_id(),
            event_id=action.event_id,
            kind=action.kind,
            actor=action.actor.subject,
            reason=action.reason,
            request_id=action.request_id or None,
            created_at=now,
        )


def _record(event) -> EventRecord:
    return EventRecord(**{f.name: getattr(event, f.name) for f in fields(EventRecord)})


__all__ = ["DISCARD", "RETRY", "Action", "OutboxAdmin"]
