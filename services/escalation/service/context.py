"""What every escalation use case needs, built once in the composition root."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.metrics import SettleMetrics
from common.outbox import Outbox
from common.reference import ReferenceData
from common.sla import BusinessCalendar
from common.workers import AfterCommit
from services.escalation.data.models import TeamCalendarRow

if TYPE_CHECKING:  # journal imports this module
    from services.escalation.service.journal import EscalationView


@dataclass
class Touched:
    """What a transaction changed that a worker may have to act on (journal.publish returns it):
    webhook deliveries written, and the earliest next due time of the clocks it published."""

    deliveries: int = 0
    clock_due: datetime | None = None

    def clock(self, due: datetime | None) -> None:
        if due is not None and (self.clock_due is None or due < self.clock_due):
            self.clock_due = due


class CalendarBook:
    """Team calendars are rows; building one is not free, so each distinct definition is built
    once per process and reused (a changed row is a new definition). The rows themselves are
    re-read at most every common.reference.REFERENCE_TTL_S."""

    def __init__(self) -> None:
        self._built: dict[tuple, BusinessCalendar] = {}
        self._rows = ReferenceData()

    async def for_team(self, session: AsyncSession, team: str) -> BusinessCalendar:
        key = await self._rows.get(team, lambda: self._definition(session, team))
        if key not in self._built:
            hours = None if key[1] is None else {int(d): v for d, v in json.loads(key[1]).items()}
            self._built[key] = BusinessCalendar.build(
                key[0], hours, country=key[2], subdivision=key[3]
            )
        return self._built[key]

    @staticmethod
    async def _definition(session: AsyncSession, team: str) -> tuple:
        row = await session.get(TeamCalendarRow, team)
        if row is None:  # a team without a calendar row counts plain Mon–Fri 09:00–17:00 UTC
            return ("UTC", None, None, None)
        return (row.time_zone, row.hours, row.country, row.subdivision)


# (event type, cursor, time, escalation view) -> the event's JSON body. Injected so that the use
# cases do not import protobuf: the body is the API's JSON form, rendered at the edge.
EventRenderer = Callable[[str, int, datetime, "EscalationView"], bytes]


@dataclass(frozen=True)
class EscalationContext:
    db: Database
    clock: Clock
    idempotency: IdempotencyStore
    outbox: Outbox
    render_event: EventRenderer
    calendars: CalendarBook = field(default_factory=CalendarBook)
    reference: ReferenceData = field(default_factory=ReferenceData)  # routing rules, OLA targets
    # After-commit wake-ups: watch streams, the webhook dispatcher, the outbox relay and the
    # sweeper react at once instead of at their next poll (other replicas' commits still wait for
    # it). A use case passes what it touched, so a raise without subscriptions does not send the
    # dispatcher looking for deliveries, nor the sweeper for clocks due hours from now.
    signals: AfterCommit = field(default_factory=AfterCommit)
    metrics: SettleMetrics = field(default_factory=SettleMetrics.noop)
