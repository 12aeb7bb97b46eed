"""The schedule worker every service runs (on common/workers.run_worker): plans the runs due,
claims them, runs each report as the schedule's stored identity, keeps the file for a configured
number of days, and sends a link to it by e-mail or webhook (send-only-if-data skips an empty
report). Replicas share the work through the store's row locks; a failed run is retried with the
same delivery id, and parked FAILED with its error after REPORTS_MAX_ATTEMPTS attempts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog

from common.clock import Clock
from common.reports.artefact import CONTENT_TYPES, write_artefact
from common.reports.catalog import Parameter, ReportCatalog
from common.reports.delivery import ReportNotice
from common.reports.schedule_store import DELIVERED, FAILED, SKIPPED, ClaimedRun, ScheduleStore
from common.reports.webhook import Deliveries
from common.settings import PROJECT_ROOT
from common.workers import Wake, run_worker

log = structlog.get_logger()
DEFAULT_ARTEFACTS = PROJECT_ROOT / "var" / "reports"


@dataclass(frozen=True)
class ScheduleConfig:
    service: str  # "accounts": the link's path segment
    artefacts: Path  # where files are kept
    link_base: str  # the gateway's public address, e.g. "https://settle.example"
    keep_days: int = 7
    catch_up_limit: int = 3
    lease: timedelta = timedelta(minutes=10)
    batch: int = 10
    poll_s: float = 60.0
    retry_after: timedelta = timedelta(minutes=5)
    mail_url: str = "file:var/mail"
    sender: str = "reports@settle.invalid"
    max_attempts: int = 5  # then the run is parked FAILED with its error
    webhook_secret: str = ""  # HMAC key of webhook deliveries; none without it
    webhook_allow: tuple[str, ...] = ()  # common/webhooks.EndpointPolicy's allow-list
    webhook_https_only: bool = True

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] = os.environ) -> ScheduleConfig:
        """REPORTS_ARTEFACT_DIR (default var/reports/<service>), REPORTS_LINK_BASE (the gateway's
        address people reach, default http://127.0.0.1:8080), REPORTS_KEEP_DAYS (7),
        REPORTS_CATCH_UP_LIMIT (3), REPORTS_MAIL_URL (common/reports/delivery.py; default the
        var/mail drop), REPORTS_MAIL_FROM, REPORTS_MAX_ATTEMPTS (5), REPORTS_WEBHOOK_SECRET,
        REPORTS_WEBHOOK_ALLOW (hosts or networks a webhook may reach beyond public addresses,
        comma-separated), REPORTS_WEBHOOK_HTTPS_ONLY (true)."""
        directory = environ.get("REPORTS_ARTEFACT_DIR")
        return cls(
            service=service,
            artefacts=Path(directory) / service if directory else DEFAULT_ARTEFACTS / service,
            link_base=environ.get("REPORTS_LINK_BASE", "http://127.0.0.1:8080"),
            keep_days=int(environ.get("REPORTS_KEEP_DAYS", "7")),
            catch_up_limit=int(environ.get("REPORTS_CATCH_UP_LIMIT", "3")),
            mail_url=environ.get("REPORTS_MAIL_URL", "file:var/mail"),
            sender=environ.get("REPORTS_MAIL_FROM", "reports@settle.invalid"),
            max_attempts=int(environ.get("REPORTS_MAX_ATTEMPTS", "5")),
            webhook_secret=environ.get("REPORTS_WEBHOOK_SECRET", ""),
            webhook_allow=tuple(environ.get("REPORTS_WEBHOOK_ALLOW", "").split(",")),
            webhook_https_only=environ.get("REPORTS_WEBHOOK_HTTPS_ONLY", "true") != "false",
        )

    def link(self, run_id: str) -> str:
        return f"{self.link_base.rstrip('/')}/v1/reports/{self.service}/artefacts/{run_id}:download"


class ReportScheduleWorker:
    def __init__(
        self,
        store: ScheduleStore,
        catalog: ReportCatalog,
        deliveries: Deliveries,
        clock: Clock,
        config: ScheduleConfig,
    ):
        self.store, self.catalog, self.deliveries = store, catalog, deliveries
        self.clock, self.config = clock, config
        self.wake = Wake()

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker(
            f"{self.config.service} report schedules",
            self.pass_once,
            stop,
            self.wake,
            retry_s=self.config.poll_s,
        )

    async def pass_once(self) -> float:
        now = self.clock.now()
        await self.store.plan(now, self.config.catch_up_limit)
        c = self.config
        claimed = await self.store.claim(now, c.lease, c.batch, c.max_attempts)
        for run in claimed:
            await self.execute(run)
        for name in await self.store.expired(now):
            (self.config.artefacts / name).unlink(missing_ok=True)
        if len(claimed) == self.config.batch:
            return 0.0
        upcoming = await self.store.next_due()
        if upcoming is None:
            return self.config.poll_s
        return min(self.config.poll_s, max(0.0, (upcoming - self.clock.now()).total_seconds()))

    async def execute(self, run: ClaimedRun) -> None:
        """Runs, files and delivers one claimed run; any failure is recorded on the run, which is
        retried later or, after its last attempt, parked FAILED (never retried forever)."""
        try:
            await self._execute(run)
        except Exception as failure:  # whatever failed, the run records it
            now = self.clock.now()
            error = f"{type(failure).__name__}: {failure}"
            state = await self.store.failed(
                run.id, error, now, now + self.config.retry_after, self.config.max_attempts
            )
            log.warning("report run failed", run=run.id, error=error, parked=state == FAILED)

    async def _execute(self, run: ClaimedRun) -> None:
        schedule = run.schedule
        report = self.catalog.get(schedule.report)
        given = run.given(reads_period=Parameter.PERIOD in report.accepts)
        parameters = self.catalog.parameters(schedule.report, given, self.clock.now())
        result = await report.compute(parameters, run.run_as)
        self.config.artefacts.mkdir(parents=True, exist_ok=True)
        name = f"{run.id}.{schedule.format.value}"
        partial = self.config.artefacts / (name + ".part")
        rows = await write_artefact(result, schedule.format, partial)
        now = self.clock.now()
        if rows == 0 and schedule.send_only_if_data:
            partial.unlink(missing_ok=True)
            await self.store.finish(run.id, SKIPPED, now, rows=0)
            return
        os.replace(partial, self.config.artefacts / name)
        expires_at = now + timedelta(days=self.config.keep_days)
        notice = ReportNotice(
            delivery_id=run.id,
            recipients=schedule.recipients,
            report_title=report.title,
            period=run.period,
            link=self.config.link(run.id),
            expires_at=expires_at,
            sent_at=now,
        )
        await self.deliveries.deliver(notice, report.name)
        await self.store.finish(
            run.id,
            DELIVERED,
            now,
            rows=rows,
            artefact=name,
            content_type=CONTENT_TYPES[schedule.format],
            expires_at=expires_at,
        )
