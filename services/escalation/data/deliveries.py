"""The webhook dispatcher's statements: leasing due deliveries (FOR UPDATE SKIP LOCKED, so
replicas share the work) and recording an attempt's outcome while the lease still holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.escalation.data.models import DeliveryRow, EventRow, SubscriptionRow


@dataclass(frozen=True)
class LeasedDelivery:
    id: str
    subscription_id: str
    endpoint: str
    secret: str = field(repr=False)  # reprs end up in tracebacks, tracebacks in logs
    event_type: str = ""
    body: bytes = field(default=b"", repr=False)  # carries notes: personal data
    attempts: int = 0


async def lease(
    session: AsyncSession,
    now: datetime,
    limit: int,
    *,
    per_endpoint: int,
    full: list[str],
    lease_for: timedelta,
) -> list[LeasedDelivery]:
    """Up to `limit` due deliveries, earliest first, at most `per_endpoint` per subscription and
    none of the subscriptions in `full`; each counts an attempt and is hidden for `lease_for`."""
    due = (DeliveryRow.state == "PENDING") & (DeliveryRow.next_attempt_at <= now)
    # The window function picks candidates; the locking query re-checks them, as another replica
    # may be faster.
    rank = func.row_number().over(
        partition_by=DeliveryRow.subscription_id,
        order_by=(DeliveryRow.next_attempt_at, DeliveryRow.event_sequence),
    )
    candidates = (
        select(DeliveryRow.id, rank.label("n"))
        .where(due, DeliveryRow.subscription_id.not_in(full))
        .subquery()
    )
    rows = (
        (
            await session.execute(
                select(DeliveryRow)
                .where(
                    due,
                    DeliveryRow.id.in_(
                        select(candidates.c.id).where(candidates.c.n <= per_endpoint)
                    ),
                )
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.event_sequence)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        return []
    leased = {r.id: (r.subscription_id, r.event_type, r.attempts + 1) for r in rows}
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(leased)))
        .values(next_attempt_at=now + lease_for, attempts=DeliveryRow.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    details = await session.execute(
        select(DeliveryRow.id, SubscriptionRow.endpoint_uri, SubscriptionRow.secret, EventRow.body)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .join(EventRow, EventRow.sequence == DeliveryRow.event_sequence)
        .where(DeliveryRow.id.in_(list(leased)))
    )
    found = {d.id: d for d in details.all()}
    return [
        LeasedDelivery(
            id_, sub, found[id_].endpoint_uri, found[id_].secret, kind, found[id_].body, n
        )
        for id_, (sub, kind, n) in leased.items()
    ]


async def record_outcome(session: AsyncSession, leased: LeasedDelivery, values: dict) -> None:
    """Only while our lease holds: if it expired and someone else took the delivery, their
    outcome wins (the attempt count moved on)."""
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == leased.id,
            DeliveryRow.attempts == leased.attempts,
            DeliveryRow.state == "PENDING",
        )
        .values(**values)
    )
