"""Tables of the accounts service. Amounts are integer minor units with their currency beside."""

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
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.db.outbox_model import IdempotencyKeyMixin, OutboxActionMixin, OutboxEventMixin
from common.db.types import UtcDateTime
from common.reports.schedule_model import ReportRunMixin, ReportScheduleMixin

Id = String(32)


class Base(DeclarativeBase):
    pass


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    country_code: Mapped[str] = mapped_column(String(2), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency_code: Mapped[str] = mapped_column(String(3), default="")
    risk_class: Mapped[str] = mapped_column(String(16), default="MEDIUM")
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    credit_limit_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    bankruptcy: Mapped[bool] = mapped_column(Boolean, default=False)
    in_litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # No dunning while set (an open legal case sets it); migration 0006.
    dunning_block: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The last business date a dunning run evaluated the customer: a run claims the others.
    dunned_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    contacts: Mapped[list[ContactRow]] = relationship(
        order_by="ContactRow.position", cascade="all, delete-orphan", lazy="joined"
    )


class ContactRow(Base):
    __tablename__ = "contacts"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    language: Mapped[str] = mapped_column(String(35), default="")
    role: Mapped[str] = mapped_column(String(100), default="")


class BillingAccountRow(Base):
    __tablename__ = "billing_accounts"
    __table_args__ = (UniqueConstraint("customer_id", "number"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str] = mapped_column(String(100))
    currency_code: Mapped[str] = mapped_column(String(3), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_due", "customer_id", "due_date"),
        Index("ix_invoices_open_window", "invoice_date", "closed_date"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    billing_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("billing_accounts.id"), nullable=True
    )
    external_number: Mapped[str] = mapped_column(String(64), unique=True)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # Both derived from the ledger and kept in the same transaction as every ledger change.
    open_minor: Mapped[int] = mapped_column(BigInteger)
    held_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # The ledger date on which the open amount reached zero; aging as of D skips closed_date <= D.
    closed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Content hash of the imported row, to tell a re-import from a conflicting row.
    import_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    lines: Mapped[list[InvoiceLineRow]] = relationship(
        order_by="InvoiceLineRow.line_number", cascade="all, delete-orphan", lazy="selectin"
    )
    holds: Mapped[list[HoldRow]] = relationship(order_by="HoldRow.created_at", lazy="selectin")


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[str] = mapped_column(String(32), default="1")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="GOODS")


class PaymentRow(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    unallocated_minor: Mapped[int] = mapped_column(BigInteger)
    received_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditNoteRow(Base):
    __tablename__ = "credit_notes"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    unallocated_minor: Mapped[int] = mapped_column(BigInteger)
    issue_date: Mapped[date] = mapped_column(Date)
    external_number: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    dispute: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AllocationRow(Base):
    """The ledger of an invoice: every payment, credit or write-off applied to it, dated."""

    __tablename__ = "allocations"
    __table_args__ = (
        Index("ix_allocations_invoice_date", "invoice_id", "applied_date"),
        # aging as of a date adds back what was allocated after it
        Index("ix_allocations_applied_date", "applied_date"),
        UniqueConstraint("entry_key", name="uq_allocations_entry_key"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    source_kind: Mapped[str] = mapped_column(String(16))  # PAYMENT | CREDIT_NOTE | WRITE_OFF
    source_id: Mapped[str] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    applied_date: Mapped[date] = mapped_column(Date)
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A write-off's entries are keyed (write_off:<id>:<invoice>) so each is posted once.
    entry_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


class HoldRow(Base):
    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("invoice_id", "dispute"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    dispute: Mapped[str] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HoldMovementRow(Base):
    """Every change of a hold, so held amounts can be aged as of past dates."""

    __tablename__ = "hold_movements"
    __table_args__ = (
        Index("ix_hold_movements_invoice", "invoice_id", "occurred_on"),
        Index("ix_hold_movements_occurred_on", "occurred_on"),  # as allocations' applied_date
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    hold_id: Mapped[str] = mapped_column(ForeignKey("holds.id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    delta_minor: Mapped[int] = mapped_column(BigInteger)
    occurred_on: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- the collector's day (migration 0004) -------------------------------------------------------


class OutcomeCodeRow(Base):
    """A code list: extended and deactivated, never deleted."""

    __tablename__ = "outcome_codes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    requires: Mapped[str] = mapped_column(String(16))  # NONE | PROMISE | DISPUTE | CALL_BACK_TIME
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InteractionRow(Base):
    """Append-only: never updated."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    billing_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("billing_accounts.id"), nullable=True
    )
    dispute: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    contact_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_text: Mapped[str] = mapped_column(String(200), default="")
    outcome_code: Mapped[str] = mapped_column(ForeignKey("outcome_codes.code"))
    note: Mapped[str] = mapped_column(String(4000), default="")
    author: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_s: Mapped[int] = mapped_column(Integer, default=0)
    call_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    invoices: Mapped[list[InteractionInvoiceRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class InteractionInvoiceRow(Base):
    __tablename__ = "interaction_invoices"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)


class PromiseRow(Base):
    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_customer", "customer_id", "created_at"),
        # the evaluator's claim: open promises by deadline
        Index("ix_promises_state_deadline", "state", "deadline_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"), nullable=True)
    plan_id: Mapped[str] = mapped_column(Id)
    instalment: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    promised_date: Mapped[date] = mapped_column(Date)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # OPEN | KEPT | PARTIALLY_KEPT | BROKEN | WITHDRAWN | CANCELLED
    state: Mapped[str] = mapped_column(String(16))
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    contact_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_text: Mapped[str] = mapped_column(String(200), default="")
    taken_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    judged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    invoices: Mapped[list[PromiseInvoiceRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class PromiseInvoiceRow(Base):
    __tablename__ = "promise_invoices"
    __table_args__ = (Index("ix_promise_invoices_invoice", "invoice_id"),)

    promise_id: Mapped[str] = mapped_column(ForeignKey("promises.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)


class PromiseEventRow(Base):
    """A promise's history (taken, judged, re-opened, withdrawn), for the customer's timeline."""

    __tablename__ = "promise_events"
    __table_args__ = (Index("ix_promise_events_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    promise_id: Mapped[str] = mapped_column(ForeignKey("promises.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    state: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PromisePolicyRow(Base):
    """How promises are judged (one row, 'default', seeded by the migration)."""

    __tablename__ = "promise_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tolerance_days: Mapped[int] = mapped_column(Integer)
    # Paid ≥ this percentage of the amount by the deadline: KEPT.
    kept_threshold_percent: Mapped[int] = mapped_column(Integer)
    # A broken promise raises an escalation once an invoice has this many broken promises.
    escalate_from_level: Mapped[int] = mapped_column(Integer)
    # The customer's business days for the tolerance, Monday = 0: "0,1,2,3,4".
    business_days: Mapped[str] = mapped_column(String(16))


class AssignmentRow(Base):
    """Which collector (and team) works a customer."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_collector", "collector"),
        Index("ix_assignments_team", "team"),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    collector: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))


class WorklistStrategyRow(Base):
    __tablename__ = "worklist_strategies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))

    rules: Mapped[list[WorklistRuleRow]] = relationship(
        order_by="WorklistRuleRow.position", cascade="all, delete-orphan", lazy="selectin"
    )


class WorklistRuleRow(Base):
    __tablename__ = "worklist_rules"

    strategy_version: Mapped[int] = mapped_column(
        ForeignKey("worklist_strategies.version"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    fact: Mapped[str] = mapped_column(String(32))
    min_value: Mapped[str] = mapped_column(String(32), default="")
    max_value: Mapped[str] = mapped_column(String(32), default="")
    points: Mapped[int] = mapped_column(Integer)


# --- dunning, write-off and Legal (migration 0006) ---------------------------------------------


class DunningLadderRow(Base):
    """A ladder version; the run uses the active one. A change is a new version."""

    __tablename__ = "dunning_ladders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_from: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


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
    __tablename__ = "dunning_notice_lines"
    __table_args__ = (Index("ix_dunning_notice_lines_invoice", "invoice_id"),)

    notice_id: Mapped[str] = mapped_column(ForeignKey("dunning_notices.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
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
    """An invoice's amounts on the hand-over date; never changed afterwards."""

    __tablename__ = "legal_snapshot_lines"

    case_id: Mapped[str] = mapped_column(ForeignKey("legal_cases.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
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
