"""Row builders shared by every path that writes a table, and the Core INSERTs of a brand-new case.

A history row is built here only: the unit of work adds it as a HistoryRow, the sweeper's batch
inserts its columns as they are. A brand-new case is written with Core: one INSERT per table
(several rows in one statement), in foreign-key order, instead of the unit of work's bookkeeping
per object; its rows are ORM objects never added to the session (the answer is built from them)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from common.tracing import current_traceparent
from services.disputes.data.models import Base, HistoryRow
from services.disputes.domain.durations import duration_text

_INSERTS = {table: table.insert() for table in Base.metadata.sorted_tables}


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
    conn = await session.connection()  # Core statements: no ORM execution machinery
    for table, insert in _INSERTS.items():  # parents before children
        if table in by_table:
            await conn.execute(insert, by_table[table])
