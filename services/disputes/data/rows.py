"""Row builders shared by every path that writes a table, and the Core INSERTs of a brand-new case.

A case, its items, notes, evidence, clocks, milestones, team grants and history rows are built here
only, by intake, casework, the clock desk and the escalation records alike. A history row: the unit
of work adds it as a HistoryRow, the sweeper's batch inserts its columns as they are. A brand-new
case is written with Core, all of its tables in one statement on PostgreSQL (common/db/inserts.py)
instead of the unit of work's bookkeeping per object; its rows are ORM objects never added to the
session (the answer is built from them)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from common.db.inserts import insert_rows
from common.ids import new_id
from common.tracing import current_traceparent
from services.disputes.data.models import (
    ClockRow,
    DisputeItemRow,
    DisputeRow,
    DisputeTeamRow,
    EvidenceRow,
    HistoryRow,
    MilestoneRow,
    NoteRow,
)
from services.disputes.domain.durations import duration_text
from services.disputes.domain.intake import PlannedItem


def history_values(
    case,
    kind: str,
    actor: str,
    at: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    comment: str = "",
    details: dict | None = None,
    traceparent: str | None = None,
) -> dict:
    """The columns of one history row of `case` (anything with a case's `id` and `version`), with
    the trace context of the action writing it (SRE lists a case's traces from these): the current
    span's, unless the caller names the span (`traceparent`)."""
    return {
        "dispute_id": case.id,
        "kind": kind,
        "actor": actor,
        "occurred_at": at,
        "version": case.version,
        "from_status": from_status,
        "to_status": to_status,
        "comment": comment,
        "details": json.dumps({k: _text(v) for k, v in (details or {}).items()}, sort_keys=True),
        "traceparent": traceparent if traceparent is not None else current_traceparent(),
    }


def _text(value) -> str:
    """A detail as stored: durations in their one client-facing form, anything else as text."""
    return duration_text(value) if isinstance(value, timedelta) else str(value)


def history_row(case, kind: str, actor: str, at: datetime, **kw) -> HistoryRow:
    """`history_values` as the ORM row the unit of work adds."""
    return HistoryRow(**history_values(case, kind, actor, at, **kw))


def case_row(
    case_id: str,
    *,
    customer_id: str,
    title: str,
    reason_code: str,
    priority: str,
    priority_rank: int,
    status: str,
    assignee: str,
    coordinator: str,
    external_ref: str,
    currency: str,
    risk_class: str,
    bankruptcy: bool,
    in_litigation: bool,
    origin_traceparent: str | None,
    items: list[PlannedItem],
    now: datetime,
) -> DisputeRow:
    """A new case, version 1, on track, with its items (in `items` order) and no clocks, notes
    or evidence yet."""
    return DisputeRow(
        id=case_id,
        customer_id=customer_id,
        title=title,
        reason_code=reason_code,
        priority=priority,
        priority_rank=priority_rank,
        status=status,
        assignee=assignee,
        coordinator=coordinator,
        external_ref=external_ref,
        currency=currency,
        customer_risk_class=risk_class,
        customer_bankruptcy=bankruptcy,
        customer_in_litigation=in_litigation,
        sla_state="ON_TRACK",
        origin_traceparent=origin_traceparent,
        version=1,
        created_at=now,
        updated_at=now,
        items=[item_row(case_id, n, p) for n, p in enumerate(items)],
        clocks=[],
        notes=[],
        evidence=[],
    )


def item_row(case_id: str, position: int, planned: PlannedItem) -> DisputeItemRow:
    """A new item: all of its planned amount still disputed, nothing paid, credited or written
    off."""
    return DisputeItemRow(
        dispute_id=case_id,
        invoice_id=planned.invoice_id,
        position=position,
        invoice_number=planned.invoice_number,
        line_numbers=",".join(map(str, planned.line_numbers)),
        original_minor=planned.amount_minor,
        still_minor=planned.amount_minor,
        paid_minor=0,
        credited_minor=0,
        written_off_minor=0,
    )


def team_row(case_id: str, team: str, escalation: str, at: datetime) -> DisputeTeamRow:
    """A team granted the case; `escalation` "" until the escalation service reports it."""
    return DisputeTeamRow(dispute_id=case_id, team=team, escalation=escalation, created_at=at)


def note_row(case_id: str, text: str, author: str, at: datetime) -> NoteRow:
    return NoteRow(id=new_id(), dispute_id=case_id, text=text, author=author, created_at=at)


def evidence_row(
    case_id: str, uri: str, description: str, added_by: str, at: datetime
) -> EvidenceRow:
    return EvidenceRow(
        id=new_id(),
        dispute_id=case_id,
        uri=uri,
        description=description,
        added_by=added_by,
        created_at=at,
    )


def clock_row(
    case_id: str,
    kind: str,
    cycle: int,
    *,
    pausable: bool,
    policy_id: str,
    calendar_id: str,
    target_value: int,
    target_unit: str,
    warning_percents: tuple[int, ...],
    started_at: datetime,
) -> ClockRow:
    """A clock as it starts, nothing fired yet (its timing columns are the desk's to store)."""
    return ClockRow(
        id=new_id(),
        dispute_id=case_id,
        kind=kind,
        cycle=cycle,
        pausable=pausable,
        policy_id=policy_id,
        calendar_id=calendar_id,
        target_value=target_value,
        target_unit=target_unit,
        warning_percents=",".join(map(str, warning_percents)),
        fired="",
        started_at=started_at,
    )


def milestone_row(clock_id: str, case_id: str, name: str, due_at: datetime) -> MilestoneRow:
    return MilestoneRow(
        id=new_id(), clock_id=clock_id, dispute_id=case_id, name=name, due_at=due_at
    )


def _values(row) -> dict:
    """Every column of the row; a key left unset (history's autoincrement id) is the database's."""
    table: Table = row.__table__
    return {
        c.key: getattr(row, c.key)
        for c in table.columns
        if not c.primary_key or c.key in row.__dict__
    }


async def insert_new(
    session: AsyncSession, rows: list, values: Mapping[Table, list[dict]] | None = None
) -> None:
    """`rows` are ORM objects; `values`, more rows as column values by table (outbox events)."""
    by_table: dict[Table, list[dict]] = defaultdict(list, values or {})
    for row in rows:
        by_table[row.__table__].append(_values(row))
    # Core: no ORM execution machinery
    await insert_rows(await session.connection(), by_table)
