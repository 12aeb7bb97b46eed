"""Report schedule and run tables of the accounts service."""

from __future__ import annotations

from common.reports.schedule_model import ReportRunMixin, ReportScheduleMixin
from services.accounts.data.models import Base


class ReportScheduleRow(ReportScheduleMixin, Base):
    pass


class ReportRunRow(ReportRunMixin, Base):
    pass
