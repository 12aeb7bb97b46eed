"""SLA clock rows as common.sla clocks: conversion both ways, their fired thresholds, the calendar
a clock counts on, the current clock of each kind, and the case facts that select a policy. Used
by every path that reads or moves clocks (a command's desk, the firing of milestones, views)."""

from __future__ import annotations

from datetime import timedelta

from common.sla import clock as sla
from common.sla.calendar import BusinessCalendar
from common.sla.clock import Clock, ClockStatus, PauseReason
from services.disputes.data.models import ClockRow, DisputeRow
from services.disputes.domain.policies import CaseFacts, Priority, TimeUnit

US = timedelta(microseconds=1)
LIVE = (ClockStatus.RUNNING, ClockStatus.PAUSED)
# Stored values -> members by lookup, not an Enum call each: a listed page reads ~100 clocks. A
# value that is no member is passed on as it is, and Clock refuses it as ever.
_KINDS = {k.value: k for k in sla.ClockKind}
_STATUSES = {s.value: s for s in ClockStatus}
_PAUSE_REASONS = {r.value: r for r in PauseReason}
_BUSINESS = {u.value: u.business for u in TimeUnit}


def to_clock(row: ClockRow) -> Clock:
    return Clock(
        kind=_KINDS.get(row.kind, row.kind),
        target=row.target_us * US,
        status=_STATUSES.get(row.status, row.status),
        started_at=row.started_at,
        spent_before=row.spent_before_us * US,
        running_since=row.running_since,
        paused_total=row.paused_total_us * US,
        paused_since=row.paused_since,
        pause_reason=_PAUSE_REASONS.get(row.pause_reason, row.pause_reason) or None,
        stopped_at=row.stopped_at,
        pausable=row.pausable,
    )


def store(row: ClockRow, clock: Clock) -> None:
    row.status = clock.status.value
    row.target_us = clock.target // US
    row.spent_before_us = clock.spent_before // US
    row.running_since = clock.running_since
    row.paused_total_us = clock.paused_total // US
    row.paused_since = clock.paused_since
    row.pause_reason = clock.pause_reason.value if clock.pause_reason else None
    row.stopped_at = clock.stopped_at


def fired(row: ClockRow) -> list[str]:
    return [n for n in row.fired.split(",") if n]


def counting(
    row: ClockRow, calendars: dict[str, BusinessCalendar], always: BusinessCalendar
) -> BusinessCalendar:
    """Business units count on the clock's calendar; calendar units on plain time (`always`,
    the book's one 24x7 calendar)."""
    return calendars[row.calendar_id] if _BUSINESS[row.target_unit] else always


def current(rows: list[ClockRow]) -> list[ClockRow]:
    """The latest clock of each kind (a reopened case has a newer resolve clock)."""
    latest: dict[str, ClockRow] = {}
    for row in rows:
        if row.kind not in latest or row.cycle >= latest[row.kind].cycle:
            latest[row.kind] = row
    return [latest[k] for k in sorted(latest)]


def case_facts(case: DisputeRow) -> CaseFacts:
    return CaseFacts(
        reason_code=case.reason_code,
        priority=Priority(case.priority),
        risk_class=case.customer_risk_class,
        currency=case.currency,
        amount_minor=sum(i.original_minor for i in case.items),
    )
