"""Tables of the escalation service. Severity is stored as its rank, so queues sort and filter
by it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.db.outbox_model import IdempotencyKeyMixin, OutboxActionMixin, OutboxEventMixin
from common.db.types import UtcDateTime
from common.reports.schedule_model import ReportRunMixin, ReportScheduleMixin

Id = String(32)
# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
Serial = BigInteger().with_variant(Integer, "sqlite")
OPEN_ONLY = text("state NOT IN ('RESOLVED', 'HANDED_BACK')")


class Base(DeclarativeBase):
    pass


class EscalationRow(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        # One open escalation per subject and team; the database settles concurrent raises.
        Index(
            "uq_escalations_open_subject_team",
            "subject",
            "team",
            unique=True,
            postgresql_where=OPEN_ONLY,
            sqlite_where=OPEN_ONLY,
        ),
        Index("ix_escalations_team_state", "team", "state", "created_at"),
        Index("ix_escalations_due", "response_due_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    raised_by: Mapped[str] = mapped_column(String(200))
    trigger_event_id: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of strings
    state: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str] = mapped_column(String(200), default="")
    info_request: Mapped[str] = mapped_column(Text, default="")
    info_response: Mapped[str] = mapped_column(Text, default="")
    outcome_code: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_links: Mapped[str] = mapped_column(Text, default="[]")  # JSON array
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    routing_rule_id: Mapped[str | None] = mapped_column(Id, nullable=True)
    # The trace that raised it (through the outbox: the dispute's); OLA breaches link back to it.
    origin_traceparent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    clock: Mapped[ResponseClockRow] = relationship(lazy="joined", innerjoin=True)


class ResponseClockRow(Base):
    """The OLA clock, apart from the escalation so the sweeper's row locks and firing never touch
    the escalation's version (a warning firing must not make a user's etag stale)."""

    __tablename__ = "response_clocks"
    __table_args__ = (Index("ix_response_clocks_next_due", "next_due_at"),)

    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), primary_key=True)
    team: Mapped[str] = mapped_column(String(16))  # whose calendar counts
    target_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    spent_before_us: Mapped[int] = mapped_column(BigInteger, default=0)
    running_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    paused_total_us: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    fired: Mapped[str] = mapped_column(String(200), default="")  # comma-separated milestones
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class HistoryRow(Base):
    __tablename__ = "escalation_history"
    __table_args__ = (Index("ix_escalation_history_escalation", "escalation_id", "id"),)

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str] = mapped_column(String(16), default="")
    to_state: Mapped[str] = mapped_column(String(16), default="")
    version: Mapped[int] = mapped_column(Integer)
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of strings


class EventRow(Base):
    """The change feed: watch cursors and webhook deliveries point into it. `sequence` is handed
    out from `sequence_counters` under a row lock, so it grows in commit order (see journal.py)."""

    __tablename__ = "escalation_events"
    __table_args__ = (Index("ix_escalation_events_team", "team", "sequence"),)

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"))
    team: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the webhook JSON, byte for byte


class SequenceCounterRow(Base):
    __tablename__ = "sequence_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class RoutingRuleRow(Base):
    __tablename__ = "routing_rules"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    root_cause: Mapped[str] = mapped_column(String(64), default="")
    dispute_reason: Mapped[str] = mapped_column(String(64), default="")
    min_amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    min_amount_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    customer_flag: Mapped[str] = mapped_column(String(32), default="")
    team: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TeamCalendarRow(Base):
    """A receiving team's business calendar: working hours in its time zone, minus holidays."""

    __tablename__ = "team_calendars"

    team: Mapped[str] = mapped_column(String(16), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[str] = mapped_column(Text)  # JSON {"0": [["09:00", "17:00"]], ...}, Monday=0
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    subdivision: Mapped[str | None] = mapped_column(String(10), nullable=True)


class OlaTargetRow(Base):
    """Business minutes a team has to respond; severity 0 is the team's default."""

    __tablename__ = "ola_targets"

    team: Mapped[str] = mapped_column(String(16), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_minutes: Mapped[int] = mapped_column(Integer)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    team: Mapped[str] = mapped_column(String(16), index=True)
    endpoint_uri: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(256))  # needed in clear to sign; never returned
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DeliveryRow(Base):
    """One event to one endpoint. Its own row, so a failing endpoint only delays its own."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            postgresql_where=text("state = 'PENDING'"),
            sqlite_where=text("state = 'PENDING'"),
        ),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)  # X-Settle-Delivery
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    event_sequence: Mapped[int] = mapped_column(ForeignKey("escalation_events.sequence"))
    event_type: Mapped[str] = mapped_column(String(64))
    escalation_id: Mapped[str] = mapped_column(Id)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OutboxEventRow(OutboxEventMixin, Base):
    pass


class OutboxActionRow(OutboxActionMixin, Base):
    pass


class IdempotencyKeyRow(IdempotencyKeyMixin, Base):
    pass


class ReportScheduleRow(ReportScheduleMixin, Base):
    pass


class ReportRunRow(ReportRunMixin, Base):
    pass
