"""The two tables of report schedules, as mixins each service's data/models.py declares once
(common/reports/schedule_store.py reads and writes them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from common.db.types import UtcDateTime


class ReportScheduleMixin:
    __tablename__ = "report_schedules"

    if TYPE_CHECKING:  # the declarative constructor of the concrete row classes

        def __init__(self, **columns: Any) -> None: ...

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[str] = mapped_column(Text, default="{}")  # JSON: bucket_bounds, annual_rate
    period: Mapped[str] = mapped_column(String(16))
    frequency: Mapped[str] = mapped_column(String(16))
    at_minute: Mapped[int] = mapped_column(Integer)  # local wall clock, minutes after midnight
    zone: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0 = Monday
    month_day: Mapped[str | None] = mapped_column(String(4), nullable=True)  # "1".."31", "last"
    format: Mapped[str] = mapped_column(String(8))
    recipients: Mapped[str] = mapped_column(Text)  # JSON array
    run_as_subject: Mapped[str] = mapped_column(String(200))
    run_as_roles: Mapped[str] = mapped_column(String(200))  # comma-separated
    run_as_team: Mapped[str] = mapped_column(String(64), default="")
    send_only_if_data: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_period_first: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_period_last: Mapped[date | None] = mapped_column(Date, nullable=True)


class ReportRunMixin:
    __tablename__ = "report_runs"

    if TYPE_CHECKING:  # the declarative constructor of the concrete row classes

        def __init__(self, **columns: Any) -> None: ...

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # also the delivery id
    schedule_id: Mapped[str] = mapped_column(String(32))
    period_first: Mapped[date] = mapped_column(Date)
    period_last: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(16))  # PENDING | RUNNING | DELIVERED | SKIPPED
    available_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    artefact: Mapped[str | None] = mapped_column(String(200), nullable=True)  # file name
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls):
        return (
            UniqueConstraint(
                "schedule_id", "period_first", "period_last", name="uq_report_runs_period"
            ),
            Index("ix_report_runs_state", "state", "available_at"),
        )
