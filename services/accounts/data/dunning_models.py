"""Dunning, write-off and legal tables of the accounts service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db.types import UtcDateTime
from services.accounts.data.models import Base, Id


class DunningLadderRow(Base):
    """A ladder version; the run uses the active one. A change is a new version."""

    __tablename__ = "dunning_ladders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_from: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the creator's actor id ("user:alice"); the seeded versions' is "system"
    created_by: Mapped[str] = mapped_column(String(200), server_default="system")


class DunningLevelRow(Base):
    __tablename__ = "dunning_levels"
    __table_args__ = (
        ForeignKeyConstraint(
            ["ladder_id", "ladder_version"], ["dunning_ladders.id", "dunning_ladders.version"]
        ),
    )

    ladder_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ladder_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(64))
    offset_days: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # EMAIL | LETTER | PHONE_TASK
    template_id: Mapped[str] = mapped_column(String(64))
    min_days_between: Mapped[int] = mapped_column(Integer)
    actions: Mapped[list[str]] = mapped_column(JSON)  # ladder.Action values


class DunningToleranceRow(Base):
    __tablename__ = "dunning_tolerances"
    __table_args__ = (
        ForeignKeyConstraint(
            ["ladder_id", "ladder_version", "level"],
            ["dunning_levels.ladder_id", "dunning_levels.ladder_version", "dunning_levels.number"],
        ),
    )

    ladder_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ladder_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    minor: Mapped[int] = mapped_column(BigInteger)


class NoticeRow(Base):
    """A dunning notice and its delivery queue entry: QUEUED until sent (or FAILED after the last
    attempt); `key` (customer, currency, level, business date) is unique, so a notice is recorded
    once however often the run runs."""

    __tablename__ = "dunning_notices"
    __table_args__ = (
        Index("ix_dunning_notices_customer", "customer_id", "currency", "business_date"),
        Index("ix_dunning_notices_queue", "state", "available_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    level: Mapped[int] = mapped_column(Integer)
    level_code: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    ladder_id: Mapped[str] = mapped_column(String(32))
    ladder_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    template_id: Mapped[str] = mapped_column(String(64))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    unallocated_cash_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16))  # QUEUED | SENT | FAILED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    available_at: Mapped[datetime] = mapped_column(UtcDateTime())  # next delivery attempt
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class NoticeLineRow(Base):
    """An invoice as a notice showed it. Like a Legal snapshot line, a copy: the invoice's id
    without a foreign key (migration 0010; its check locked the invoice per line written)."""

    __tablename__ = "dunning_notice_lines"
    __table_args__ = (Index("ix_dunning_notice_lines_invoice", "invoice_id"),)

    notice_id: Mapped[str] = mapped_column(ForeignKey("dunning_notices.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(Id, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    open_minor: Mapped[int] = mapped_column(BigInteger)
    held_minor: Mapped[int] = mapped_column(BigInteger)
    promised_minor: Mapped[int] = mapped_column(BigInteger)
    in_legal_minor: Mapped[int] = mapped_column(BigInteger)
    claimed_paid_minor: Mapped[int] = mapped_column(BigInteger)
    due_now_minor: Mapped[int] = mapped_column(BigInteger)


class DunningDecisionRow(Base):
    """Why the run sent a customer × currency nothing (or which notice it sent), per day."""

    __tablename__ = "dunning_decisions"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))  # NOTICE or a dunning.SkipReason
    detail: Mapped[str] = mapped_column(String(200), default="")
    notice_id: Mapped[str | None] = mapped_column(Id, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WriteOffReasonRow(Base):
    """A code list: extended and deactivated, never deleted."""

    __tablename__ = "write_off_reasons"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApprovalLimitRow(Base):
    """Who may approve a write-off up to how much: a role or a user, per currency."""

    __tablename__ = "approval_limits"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    max_minor: Mapped[int] = mapped_column(BigInteger)


class WriteOffRow(Base):
    __tablename__ = "write_offs"
    __table_args__ = (Index("ix_write_offs_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str] = mapped_column(ForeignKey("write_off_reasons.code"))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    requester: Mapped[str] = mapped_column(String(200))
    editors: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    required_approvals: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decision_note: Mapped[str] = mapped_column(String(2000), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    lines: Mapped[list[WriteOffLineRow]] = relationship(
        order_by="WriteOffLineRow.position", cascade="all, delete-orphan", lazy="selectin"
    )
    approvals: Mapped[list[WriteOffApprovalRow]] = relationship(
        order_by="WriteOffApprovalRow.approved_at", cascade="all, delete-orphan", lazy="selectin"
    )


class WriteOffLineRow(Base):
    __tablename__ = "write_off_lines"

    write_off_id: Mapped[str] = mapped_column(ForeignKey("write_offs.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class WriteOffApprovalRow(Base):
    __tablename__ = "write_off_approvals"

    write_off_id: Mapped[str] = mapped_column(ForeignKey("write_offs.id"), primary_key=True)
    approver: Mapped[str] = mapped_column(String(200), primary_key=True)
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime())
    limit_minor: Mapped[int] = mapped_column(BigInteger)


class LegalCaseRow(Base):
    __tablename__ = "legal_cases"
    __table_args__ = (Index("ix_legal_cases_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    trigger: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    snapshot: Mapped[list[LegalSnapshotLineRow]] = relationship(
        order_by="(LegalSnapshotLineRow.currency, LegalSnapshotLineRow.position)",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    events: Mapped[list[LegalEventRow]] = relationship(
        order_by="LegalEventRow.occurred_at", cascade="all, delete-orphan", lazy="selectin"
    )


class LegalSnapshotLineRow(Base):
    """An invoice's amounts on the hand-over date; never changed afterwards (a copy: the
    invoice's id without a foreign key, as a notice line's)."""

    __tablename__ = "legal_snapshot_lines"

    case_id: Mapped[str] = mapped_column(ForeignKey("legal_cases.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(Id, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    open_minor: Mapped[int] = mapped_column(BigInteger)
    held_minor: Mapped[int] = mapped_column(BigInteger)
    promised_minor: Mapped[int] = mapped_column(BigInteger)
    to_collect_minor: Mapped[int] = mapped_column(BigInteger)


class LegalEventRow(Base):
    """A legal case's history: the hand-over, Legal's answers, every posting Legal was told of."""

    __tablename__ = "legal_events"
    __table_args__ = (Index("ix_legal_events_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("legal_cases.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    # a LegalState, or POSTING_REPORTED (allocation_id set: reported once, the key is unique)
    kind: Mapped[str] = mapped_column(String(20))
    allocation_id: Mapped[str | None] = mapped_column(Id, unique=True, nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(2000), default="")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
