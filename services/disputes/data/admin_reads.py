"""SLA policies and business calendars read for display (ListSlaPolicies, ListCalendars):
prebuilt Core statements, in id order, one record type each, run on the reading connection."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from common.db.query import apply_filter
from common.listing import Page, Term
from services.disputes.data.models import CalendarRow, SlaPolicyRow


class SlaPolicyRecord(NamedTuple):
    id: str
    display_name: str
    clock_kind: str
    target_value: int
    target_unit: str
    reason_codes: str
    priorities: str
    risk_classes: str
    amount_currency: str | None
    min_amount_minor: int | None
    max_amount_minor: int | None
    warning_percents: str
    escalating_milestones: str
    calendar_id: str | None
    precedence: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CalendarRecord(NamedTuple):
    id: str
    display_name: str
    time_zone: str
    hours: str
    country_code: str
    subdivision: str
    extra_holidays: str
    extra_working_days: str
    customer_id: str | None
    team: str
    version: int
    created_at: datetime
    updated_at: datetime


# The filterable fields of ListSlaPolicies and the columns they compare.
POLICY_COLUMNS = {
    "active": SlaPolicyRow.active,
    "clock": SlaPolicyRow.clock_kind,
    "id": SlaPolicyRow.id,
}

_POLICIES = select(*(SlaPolicyRow.__table__.c[f] for f in SlaPolicyRecord._fields))
_CALENDARS = (
    select(*(CalendarRow.__table__.c[f] for f in CalendarRecord._fields))
    .order_by(CalendarRow.id)
    .offset(bindparam("offset", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)


def _paged(stmt: Select, tiebreak) -> Select:
    return (
        stmt.order_by(tiebreak)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


def policy_record(row: SlaPolicyRow) -> SlaPolicyRecord:
    return SlaPolicyRecord(*(getattr(row, f) for f in SlaPolicyRecord._fields))


def calendar_record(row: CalendarRow) -> CalendarRecord:
    return CalendarRecord(*(getattr(row, f) for f in CalendarRecord._fields))


async def policies(conn: AsyncConnection, terms: list[Term], page: Page) -> list[SlaPolicyRecord]:
    """One page of SLA policies matching the filter terms (values bound), in id order."""
    stmt = _paged(apply_filter(_POLICIES, terms, POLICY_COLUMNS), SlaPolicyRow.id)
    found = await conn.execute(stmt, {"offset": page.offset, "limit": page.size})
    return [SlaPolicyRecord._make(r) for r in found]


async def calendars(conn: AsyncConnection, page: Page) -> list[CalendarRecord]:
    """One page of calendars, in id order."""
    found = await conn.execute(_CALENDARS, {"offset": page.offset, "limit": page.size})
    return [CalendarRecord._make(r) for r in found]
