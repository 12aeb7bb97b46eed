"""The notices' delivery queue (the notices table itself): lease the QUEUED notices that are due
with FOR UPDATE SKIP LOCKED (replicas share them; a lease that is never answered — a crash —
expires, so a notice is never stuck), then record each attempt's outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data.dunning_models import NoticeRow
from services.accounts.data.dunning_rows import FAILED, QUEUED, SENT
from services.accounts.data.repository import missing

_n = NoticeRow.__table__
_DUE = (
    select(_n.c.id)
    .where(_n.c.state == QUEUED, _n.c.available_at <= bindparam("now"))
    .order_by(_n.c.available_at, _n.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)


async def lease(session: AsyncSession, now: datetime, lease: timedelta, limit: int) -> list[str]:
    """The ids of the due notices, each attempt counted and hidden for `lease`."""
    ids = list((await session.execute(_DUE, {"now": now, "limit": limit})).scalars())
    if ids:
        await session.execute(
            update(NoticeRow)
            .where(NoticeRow.id.in_(ids))
            .values(available_at=now + lease, attempts=NoticeRow.attempts + 1)
        )
    return ids


async def sent(session: AsyncSession, notice_id: str, now: datetime) -> None:
    await session.execute(
        update(NoticeRow)
        .where(NoticeRow.id == notice_id)
        .values(state=SENT, sent_at=now, last_error="")
    )


async def failed(
    session: AsyncSession, notice_id: str, error: str, retry_at: datetime | None
) -> None:
    """Retried at `retry_at`; None: no attempt is left, the notice is FAILED for a person."""
    values: dict = {"last_error": error[:2000]}
    if retry_at is None:
        values["state"] = FAILED
    else:
        values["available_at"] = retry_at
    await session.execute(update(NoticeRow).where(NoticeRow.id == notice_id).values(**values))


_LOCK = (
    select(_n.c.customer_id, _n.c.state, _n.c.last_error)
    .where(_n.c.id == bindparam("id"))
    .with_for_update()
)


async def lock(session: AsyncSession, notice_id: str) -> tuple[str, str, str]:
    """(customer id, state, last error) of the notice, its row locked."""
    row = (await session.execute(_LOCK, {"id": notice_id})).first()
    if row is None:
        raise missing("notice", notice_id)
    return row.customer_id, row.state, row.last_error


async def requeue(session: AsyncSession, notice_id: str, now: datetime, record: str) -> None:
    """Queued again, due now, its attempts counted from zero; `record` says who asked."""
    await session.execute(
        update(NoticeRow)
        .where(NoticeRow.id == notice_id)
        .values(state=QUEUED, attempts=0, available_at=now, last_error=record[:2000])
    )


async def next_due(session: AsyncSession) -> datetime | None:
    return (
        await session.execute(
            select(_n.c.available_at).where(_n.c.state == QUEUED).order_by(_n.c.available_at)
            .limit(1)
        )
    ).scalar()  # fmt: skip
