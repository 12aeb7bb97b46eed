"""What a service's composition root builds for its reports: the ReportsService servicer and the
schedule worker, over the service's catalog and its two schedule tables."""

from __future__ import annotations

from dataclasses import dataclass

from common.clock import Clock
from common.db import Database
from common.reports.catalog import ReportCatalog
from common.reports.delivery import mailer_from_url
from common.reports.schedule_store import ScheduleStore
from common.reports.schedule_worker import ReportScheduleWorker, ScheduleConfig
from common.reports.servicer import ReportsServicer


@dataclass
class ReportsParts:
    servicer: ReportsServicer
    worker: ReportScheduleWorker


def assemble_reports(
    catalog: ReportCatalog,
    servicer_class: type[ReportsServicer],
    db: Database,
    clock: Clock,
    tables: tuple[type, type],  # the service's ReportScheduleRow, ReportRunRow
    config: ScheduleConfig,
) -> ReportsParts:
    store = ScheduleStore(db, *tables)
    mailer = mailer_from_url(config.mail_url, config.sender)
    return ReportsParts(
        servicer_class(catalog, clock, store, config.artefacts),
        ReportScheduleWorker(store, catalog, mailer, clock, config),
    )
