"""What every escalation use case needs, built once in the composition root."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.metrics import SettleMetrics
from common.outbox import Outbox
from common.sla import BusinessCalendar
from services.escalation.models import TeamCalendarRow


class Signals:
    """After-commit wake-ups: watch streams, the webhook dispatcher, the outbox relay and the
    sweeper react at once instead of at their next poll. Polling stays as the fallback (other
    replicas' commits do not pass through here)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()


class CalendarBook:
    """Team calendars are rows; building one is not free, so each distinct definition is built
    once per process and reused (a changed row is a new definition)."""

    def __init__(self) -> None:
        self._built: dict[tuple, BusinessCalendar] = {}

    async def for_team(self, session: AsyncSession, team: str) -> BusinessCalendar:
        row = await session.get(TeamCalendarRow, team)
        if row is None:  # a team without a calendar row counts plain Mon–Fri 09:00–17:00 UTC
            key = ("UTC", None, None, None)
        else:
            key = (row.time_zone, row.hours, row.country, row.subdivision)
        if key not in self._built:
            hours = None if key[1] is None else {int(d): v for d, v in json.loads(key[1]).items()}
            self._built[key] = BusinessCalendar.build(
                key[0], hours, country=key[2], subdivision=key[3]
            )
        return self._built[key]


# (event type, cursor, time, escalation view) -> the event's JSON body. Injected so that the use
# cases do not import protobuf: the body is the API's JSON form, rendered at the edge.
EventRenderer = Callable[[str, int, datetime, object], bytes]


@dataclass(frozen=True)
class EscalationContext:
    db: Database
    clock: Clock
    idempotency: IdempotencyStore
    outbox: Outbox
    render_event: EventRenderer
    calendars: CalendarBook = field(default_factory=CalendarBook)
    signals: Signals = field(default_factory=Signals)
    metrics: SettleMetrics = field(default_factory=SettleMetrics.noop)
