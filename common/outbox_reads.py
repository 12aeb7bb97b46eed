"""Display reads of a service's outbox for SRE (common/outbox_admin_api.py): its events by state,
destination and method, and the actions people took on them. Each statement is built once per
process (the tables are the service's own, so not at import), every value bound; they run on a
reading connection, one record type each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from common.listing import Page

PENDING, PARKED, DELIVERED, DISCARDED = "PENDING", "PARKED", "DELIVERED", "DISCARDED"
EVENT_STATES = (PENDING, PARKED, DELIVERED, DISCARDED)
RETRY, DISCARD = "RETRY", "DISCARD"
ACTION_KINDS = (RETRY, DISCARD)


@dataclass(frozen=True)
class EventRecord:
    id: str
    destination: str
    method: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    discarded_at: datetime | None

    @property
    def state(self) -> str:
        if self.discarded_at is not None:
            return DISCARDED
        if self.delivered_at is not None:
            return DELIVERED
        return PARKED if self.dead_at is not None else PENDING


@dataclass(frozen=True)
class ActionRecord:
    id: str
    event_id: str
    kind: str
    actor: str
    reason: str
    request_id: str | None
    created_at: datetime


def _any(name: str):
    """An optional filter: "" (the default) matches every row."""
    return bindparam(name, "", type_=String)


class OutboxReads:
    def __init__(self, event_model, action_model):
        e, a = event_model, action_model
        state = _any("state")
        by_state = or_(
            state == "",
            (state == PENDING) & e.delivered_at.is_(None) & e.dead_at.is_(None),
            (state == PARKED) & e.dead_at.is_not(None) & e.discarded_at.is_(None),
            (state == DELIVERED) & e.delivered_at.is_not(None),
            (state == DISCARDED) & e.discarded_at.is_not(None),
        )
        self._events = (
            select(*(getattr(e, f) for f in EventRecord.__dataclass_fields__))
            .where(
                by_state,
                or_(_any("destination") == "", e.destination == _any("destination")),
                or_(_any("method") == "", e.method == _any("method")),
            )
            .order_by(e.created_at, e.id)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        self._event = select(*(getattr(e, f) for f in EventRecord.__dataclass_fields__)).where(
            e.id == bindparam("id")
        )
        self._actions = (
            select(*(getattr(a, f) for f in ActionRecord.__dataclass_fields__))
            .where(
                or_(_any("event_id") == "", a.event_id == _any("event_id")),
                or_(_any("kind") == "", a.kind == _any("kind")),
                or_(_any("actor") == "", a.actor == _any("actor")),
            )
            .order_by(a.created_at.desc(), a.id.desc())
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )

    async def events(
        self, conn: AsyncConnection, page: Page, *, state="", destination="", method=""
    ) -> list[EventRecord]:
        rows = await conn.execute(
            self._events,
            {"state": state, "destination": destination, "method": method, **_window(page)},
        )
        return [EventRecord(*row) for row in rows]

    async def event(self, conn: AsyncConnection, event_id: str) -> EventRecord | None:
        row = (await conn.execute(self._event, {"id": event_id})).first()
        return EventRecord(*row) if row is not None else None

    async def actions(
        self, conn: AsyncConnection, page: Page, *, event_id="", kind="", actor=""
    ) -> list[ActionRecord]:
        rows = await conn.execute(
            self._actions, {"event_id": event_id, "kind": kind, "actor": actor, **_window(page)}
        )
        return [ActionRecord(*row) for row in rows]


def _window(page: Page) -> dict[str, int]:
    return {"limit": page.size, "offset": page.offset}
