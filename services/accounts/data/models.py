"""Tables of the accounts service. Amounts are integer minor units with their currency beside."""

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
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.db.outbox_model import IdempotencyKeyMixin, OutboxActionMixin, OutboxEventMixin
from common.db.types import UtcDateTime

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


class OutboxEventRow(OutboxEventMixin, Base):
    pass


class OutboxActionRow(OutboxActionMixin, Base):
    pass


class IdempotencyKeyRow(IdempotencyKeyMixin, Base):
    pass
