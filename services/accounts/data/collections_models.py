"""Collections tables of the accounts service: outcome codes, interactions, promises,
assignments and worklist strategies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db.types import UtcDateTime
from services.accounts.data.models import Base, Id


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
        # a judged instalment's earlier instalments (data/promise_batch.py), without a scan
        Index("ix_promises_plan", "plan_id", "instalment"),
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


# --- the worklist's per-customer facts (migration 0008) ----------------------------------------
class CustomerFactsRow(Base):
    """What the worklist reads of a customer's books instead of its invoices, promises,
    interactions, holds and notices. Written only by data/customer_facts.py, recomputed in the
    transaction of every write that changes one of its sources (the import, which only appends
    invoices, adds theirs). Nothing here
    depends on the day: what is overdue and what falls due today come, at read time, from these
    figures and the dated rows of customer_facts_ahead."""

    __tablename__ = "customer_facts"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    # Of the open invoices counted (the customer's currency; all when it has none).
    currency: Mapped[str] = mapped_column(String(3))  # the largest code, as the worklist shows it
    open_minor: Mapped[int] = mapped_column(BigInteger)
    held_minor: Mapped[int] = mapped_column(BigInteger)
    collectible_minor: Mapped[int] = mapped_column(BigInteger)  # open − held where open > held
    oldest_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # of those collectible
    promised_minor: Mapped[int] = mapped_column(BigInteger)  # OPEN promises' amounts
    broken_promises: Mapped[int] = mapped_column(Integer)
    open_disputes: Mapped[int] = mapped_column(Integer)  # disputes holding something
    last_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    call_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    phone_task_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CustomerFactsAheadRow(Base):
    """A customer's dated facts from the day of its last recomputation on: per day, what of
    `collectible_minor` falls due that day, and how many OPEN promises are promised for it. A read
    on day D takes the rows of days ≥ D (still not overdue; promised today), all of which exist
    because D is not before the recomputation; rows of past days are left until the next one."""

    __tablename__ = "customer_facts_ahead"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    due_minor: Mapped[int] = mapped_column(BigInteger)
    open_promises: Mapped[int] = mapped_column(Integer)
