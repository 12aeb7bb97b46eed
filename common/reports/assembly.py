"""What a service's composition root builds for its reports: the ReportsService servicer and the
schedule worker, over the service's catalog and its two schedule tables."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from common.clock import Clock
from common.db import Database
from common.reports.catalog import ReportCatalog
from common.reports.delivery import mailer_from_url
from common.reports.schedule_store import ScheduleStore
from common.reports.schedule_worker import ReportScheduleWorker, ScheduleConfig
from common.reports.servicer import ReportsServicer
from common.reports.webhook import Deliveries, WebhookSender
from common.webhooks import EndpointPolicy


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
    endpoints = EndpointPolicy.parse(config.webhook_allow, https_only=config.webhook_https_only)
    webhooks = (
        WebhookSender(
            httpx.AsyncClient(headers={"Accept": "*/*"}), endpoints, config.webhook_secret
        )
        if config.webhook_secret
        else None
    )
    accepts = endpoints if webhooks is not None else None
    return ReportsParts(
        servicer_class(catalog, clock, store, config.artefacts, webhooks=accepts),
        ReportScheduleWorker(store, catalog, Deliveries(mailer, webhooks), clock, config),
    )
