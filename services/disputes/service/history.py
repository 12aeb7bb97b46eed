"""The append-only history of a case: every change and every clock event is one inserted row,
with the trace context of the action that wrote it (SRE lists a case's traces from these)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.tracing import current_traceparent
from services.disputes.data.models import DisputeRow, HistoryRow


def record(session: AsyncSession, case: DisputeRow, kind: str, actor: str, at: datetime, **kw):
    session.add(row(case, kind, actor, at, **kw))


def row(
    case: DisputeRow,
    kind: str,
    actor: str,
    at: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    comment: str = "",
    details: dict | None = None,
) -> HistoryRow:
    """The row `record` adds (a brand-new case inserts its rows itself, table by table)."""
    return HistoryRow(
        dispute_id=case.id,
        kind=kind,
        actor=actor,
        occurred_at=at,
        version=case.version,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        details=json.dumps({k: str(v) for k, v in (details or {}).items()}, sort_keys=True),
        traceparent=current_traceparent(),
    )
