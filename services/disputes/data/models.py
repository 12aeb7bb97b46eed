"""Tables of the disputes service. Amounts are integer minor units in the case's one currency;
durations are integer microseconds (exact on both databases)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.db.outbox_model import IdempotencyKeyMixin, OutboxActionMixin, OutboxEventMixin
from common.db.types import UtcDateTime
from common.reports.schedule_model import ReportRunMixin, ReportScheduleMixin

Id = String(32)
Code = String(64)
# 64-bit keys on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class DisputeRow(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_status", "status", "created_at"),
        Index("ix_disputes_customer", "customer_id", "created_at"),
        Index("ix_disputes_assignee", "assignee", "status"),
        Index("ix_disputes_due", "due_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Id)
    title: Mapped[str] = mapped_column(String(200))
    reason_code: Mapped[str] = mapped_column(ForeignKey("reason_codes.code"))
    root_cause_code: Mapped[str | None] = mapped_column(
        ForeignKey("root_causes.code"), nullable=True
    )
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)  # for ordering by priority
    status: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assignee: Mapped[str] = mapped_column(String(200), default="")
    coordinator: Mapped[str] = mapped_column(String(200), default="")
    external_ref: Mapped[str] = mapped_column(String(100), default="")
    currency: Mapped[str] = mapped_column(String(3))
    # The customer as accounts described it at intake: SLA policy and escalation routing inputs.
    customer_risk_class: Mapped[str] = mapped_column(String(16))
    customer_bankruptcy: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_in_litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Derived from the clocks, kept in the same transaction as every clock change, for filters.
    sla_state: Mapped[str] = mapped_column(String(16), default="ON_TRACK")
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The W3C traceparent of the request that opened the case: breach spans link back to it.
    origin_traceparent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    items: Mapped[list[DisputeItemRow]] = relationship(
        order_by="DisputeItemRow.position", lazy="raise", cascade="all"
    )
    clocks: Mapped[list[ClockRow]] = relationship(order_by="ClockRow.id", lazy="raise")
    notes: Mapped[list[NoteRow]] = relationship(order_by="NoteRow.created_at", lazy="raise")
    evidence: Mapped[list[EvidenceRow]] = relationship(
        order_by="EvidenceRow.created_at", lazy="raise"
    )


class DisputeItemRow(Base):
    """One invoice of a case and its waterfall."""

    __tablename__ = "dispute_items"

    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(Id, primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    invoice_number: Mapped[str] = mapped_column(String(64))
    line_numbers: Mapped[str] = mapped_column(String(500), default="")  # "1,3"
    original_minor: Mapped[int] = mapped_column(BigInteger)
    still_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class ClockRow(Base):
    """An SLA clock (common.sla.clock.Clock) with the policy and calendar that drive it."""

    __tablename__ = "sla_clocks"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[int] = mapped_column(Integer, default=1)  # a reopened case starts cycle 2
    status: Mapped[str] = mapped_column(String(16))
    pausable: Mapped[bool] = mapped_column(Boolean)
    policy_id: Mapped[str] = mapped_column(String(64))
    calendar_id: Mapped[str] = mapped_column(String(64))
    target_value: Mapped[int] = mapped_column(BigInteger)
    target_unit: Mapped[str] = mapped_column(String(24))
    target_us: Mapped[int] = mapped_column(BigInteger)
    warning_percents: Mapped[str] = mapped_column(String(100))  # "50,75"
    fired: Mapped[str] = mapped_column(String(200), default="")  # "WARNING_50,BREACH"
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    spent_before_us: Mapped[int] = mapped_column(BigInteger, default=0)
    running_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    paused_total_us: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Not a column: its calendar's version where it was read with the clock (data/loading.py) or
    # set when the clock started, so the calendar book can answer without a read (None: unknown).
    calendar_version = None


class MilestoneRow(Base):
    """A warning or breach still to fire (fired_at NULL) or fired. Unfired rows are replaced
    whenever their clock changes; fired rows are history."""

    __tablename__ = "clock_milestones"
    __table_args__ = (
        UniqueConstraint("clock_id", "name"),
        Index(
            "ix_clock_milestones_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
        # The sweeper claims due breaches first (data/sweep.py): found without walking the
        # backlog of due warnings a burst leaves. On `due_at` alone, like the index above: the
        # smaller of the two, so the planner prefers it for breaches (with `id` too it took the
        # larger one and filtered it).
        Index(
            "ix_clock_milestones_breach_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND name = 'BREACH'"),
            sqlite_where=text("fired_at IS NULL AND name = 'BREACH'"),
        ),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    clock_id: Mapped[str] = mapped_column(ForeignKey("sla_clocks.id"))
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))  # WARNING_50 | WARNING_75 | BREACH
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class HistoryRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "dispute_history"
    __table_args__ = (Index("ix_dispute_history_dispute", "dispute_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of strings
    # The W3C traceparent of the action that wrote the row (a request, a sweeper firing): the
    # traces that touched a case, for SRE (GetDisputeTrace). NULL when tracing was off.
    traceparent: Mapped[str | None] = mapped_column(String(128), nullable=True)


class DisputeTeamRow(Base):
    """A team a case was escalated to: that team's Sales, GBS or Legal users see and work the
    case (common/team_scope.py). One row per (case, team), whatever the number of escalations."""

    __tablename__ = "dispute_teams"
    # A team's list starts from its rows (EXISTS … team = :team) on a large disputes table.
    __table_args__ = (Index("ix_dispute_teams_team", "team", "dispute_id"),)

    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), primary_key=True)
    team: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "escalations/{id}" of the escalation that brought the team in; "" until the escalation
    # service reports it (a case escalated from this service to a named team is recorded at once).
    escalation: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class NoteRow(Base):
    __tablename__ = "dispute_notes"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EvidenceRow(Base):
    __tablename__ = "dispute_evidence"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    uri: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    added_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReasonCodeRow(Base):
    __tablename__ = "reason_codes"

    code: Mapped[str] = mapped_column(Code, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    x12_code: Mapped[str] = mapped_column(String(8), default="")
    edifact_code: Mapped[str] = mapped_column(String(8), default="")
    requires_note: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RootCauseRow(Base):
    __tablename__ = "root_causes"

    code: Mapped[str] = mapped_column(Code, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    owning_team: Mapped[str] = mapped_column(String(32))
    requires_note: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SlaPolicyRow(Base):
    __tablename__ = "sla_policies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    clock_kind: Mapped[str] = mapped_column(String(16))
    target_value: Mapped[int] = mapped_column(BigInteger)
    target_unit: Mapped[str] = mapped_column(String(24))
    reason_codes: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    priorities: Mapped[str] = mapped_column(String(100), default="")
    risk_classes: Mapped[str] = mapped_column(String(100), default="")
    amount_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    min_amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    warning_percents: Mapped[str] = mapped_column(String(100), default="50,75")
    # The milestones that raise an escalation when they fire ("BREACH,WARNING_75").
    escalating_milestones: Mapped[str] = mapped_column(
        String(200), default="BREACH", server_default="BREACH"
    )
    calendar_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    precedence: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CalendarRow(Base):
    __tablename__ = "calendars"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[str] = mapped_column(
        Text, default=""
    )  # JSON {"0": [["09:00","17:00"]]}; "" default
    country_code: Mapped[str] = mapped_column(String(2), default="")
    subdivision: Mapped[str] = mapped_column(String(10), default="")
    extra_holidays: Mapped[str] = mapped_column(Text, default="")  # comma-separated ISO dates
    extra_working_days: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[str | None] = mapped_column(Id, nullable=True, unique=True)
    team: Mapped[str] = mapped_column(String(32), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


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
