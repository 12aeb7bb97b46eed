"""The append-only history of a case: every change and every clock event is one inserted row
(built by data/rows.py, the one builder of history rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.disputes.data.models import DisputeRow
from services.disputes.data.rows import history_row


def record(session: AsyncSession, case: DisputeRow, kind: str, actor: str, at: datetime, **kw):
    session.add(history_row(case, kind, actor, at, **kw))
