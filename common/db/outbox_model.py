"""Table shapes every service shares: the outbox (events to deliver) and the idempotency keys
(requests and events already applied). Each service mixes them into its own declarative Base, so
the tables live in its own database and migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from common.db.types import UtcDateTime

# Outbox priorities, lowest first (as P0 before P1): the relay leases URGENT events (SLA breaches)
# before NORMAL ones, so a breach never waits behind a backlog of warnings.
URGENT, NORMAL = 0, 1


class OutboxEventMixin:
    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(
        String(32), primary_key=True
    )  # the event id consumers dedupe on
    destination: Mapped[str] = mapped_column(String(64))  # logical service name, e.g. "accounts"
    method: Mapped[str] = mapped_column(String(200))  # full gRPC method path
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # serialized request message
    subject: Mapped[str] = mapped_column(String(200), default="")  # e.g. "disputes/<id>", for logs
    traceparent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    available_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(SmallInteger, default=NORMAL, server_default=str(NORMAL))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # parked
    # A parked event a person gave up on (common/outbox_admin.py): kept, never relayed.
    discarded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls):
        pending = text("delivered_at IS NULL AND dead_at IS NULL")
        return (
            Index(
                "ix_outbox_pending",
                "priority",
                "available_at",
                postgresql_where=pending,
                sqlite_where=pending,
            ),
        )


class OutboxActionMixin:
    """What a person did to a parked event (retry, discard): who, when, why. Never deleted."""

    __tablename__ = "outbox_actions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "RETRY" | "DISCARD"
    actor: Mapped[str] = mapped_column(String(200))  # the caller's signed subject
    reason: Mapped[str] = mapped_column(Text, default="")
    # The caller's request id: a repeated call finds its action instead of acting twice.
    request_id: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IdempotencyKeyMixin:
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)  # the use case
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # request_id or event id
    fingerprint: Mapped[str] = mapped_column(String(64))  # hash of the request's content
    resource_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # what it produced
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
