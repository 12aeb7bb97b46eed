"""Composition root of the accounts service: everything the process needs is built here."""

from __future__ import annotations

from dataclasses import dataclass

from common.clock import Clock, SystemClock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.listing import PageTokens
from common.metrics import SettleMetrics
from common.outbox import Outbox, OutboxRelay
from common.outbox_admin_api import OutboxAdminApi
from common.reports.assembly import assemble_reports
from common.reports.schedule_worker import ScheduleConfig
from common.rpc.client import open_channel
from common.rpc.server import ServiceProcess
from common.settings import Settings
from common.telemetry import Telemetry
from services.accounts.api.reports_servicer import AccountsReportsServicer
from services.accounts.api.servicer import AccountsServicer
from services.accounts.config import AccountsConfig
from services.accounts.data.models import IdempotencyKeyRow, OutboxActionRow, OutboxEventRow
from services.accounts.data.report_models import ReportRunRow, ReportScheduleRow
from services.accounts.outbound.notices.mail import notice_mailer_from_url
from services.accounts.outbound.notices.render import NoticeTemplates
from services.accounts.service.context import AccountsContext
from services.accounts.service.dunning_run import DUNNING_RUN
from services.accounts.service.notice_delivery import NoticeDelivery
from services.accounts.service.reports import AccountsReports
from services.accounts.workers import gauges
from services.accounts.workers.dunning_schedule import DunningSchedule
from services.accounts.workers.legal_notifier import LegalNotifier
from services.accounts.workers.notice_sender import NoticeSender
from services.accounts.workers.promise_evaluator import PromiseEvaluator
from settle.accounts.v1 import accounts_pb2, accounts_pb2_grpc

SERVICE_NAME = accounts_pb2.DESCRIPTOR.services_by_name["AccountsService"].full_name
DOWNSTREAM = ("escalation",)  # broken promises go to the team lead through the outbox


@dataclass
class AccountsParts:
    """The built process and what runs without it (the import command uses the context)."""

    process: ServiceProcess
    ctx: AccountsContext
    evaluator: PromiseEvaluator
    relay: OutboxRelay
    notices: NoticeSender  # delivers queued dunning notices
    dunning: DunningSchedule  # the daily dunning run
    legal: LegalNotifier  # tells Legal of every posting on its accounts


def assemble(
    settings: Settings, telemetry: Telemetry | None = None, clock: Clock | None = None
) -> AccountsParts:
    config = AccountsConfig.from_env()
    clock = clock or SystemClock()
    db = Database.from_url(settings.database_url)
    if telemetry is not None:
        telemetry.instrument_engine(db.engine)
    ctx = AccountsContext(
        db=db,
        clock=clock,
        idempotency=IdempotencyStore(IdempotencyKeyRow, clock),
        import_chunk_rows=config.import_chunk_rows,
        outbox=Outbox(OutboxEventRow, clock),
        dunning_batch=config.dunning_batch,
        dunning_lanes=config.dunning_lanes,
    )
    # Only the destinations the settings name (the tests' accounts runs alone): an event for
    # another waits in the outbox.
    channels = {
        name: open_channel(
            address,
            secret=settings.internal_secret,
            service="accounts",
            default_deadline_s=settings.default_deadline_s,
        )
        for name, address in settings.downstream.items()
    }
    metrics = telemetry.metrics if telemetry is not None else SettleMetrics.noop()
    evaluator = PromiseEvaluator(
        ctx, metrics, batch=config.promise_batch, max_sleep_s=config.promise_poll_s
    )
    # promises by state, each collector's worklist size and completion (docs/sre.md)
    gauge_poll = (
        [metrics.poll(gauges.GAUGES, lambda: gauges.read(ctx), every_s=gauges.POLL_S)]
        if telemetry is not None
        else []
    )
    relay = OutboxRelay(
        db, OutboxEventRow, clock, channels, metrics=telemetry.metrics if telemetry else None
    )
    ctx.after_commit.listen(evaluator.wake)
    ctx.after_commit.listen(relay.wake)
    delivery = NoticeDelivery(
        mailer=notice_mailer_from_url(config.mail_url),
        templates=NoticeTemplates(),
        sender=config.mail_from,
        sender_name="Accounts Receivable",
    )
    notices = NoticeSender(ctx, delivery)
    dunning = DunningSchedule(ctx, every_s=config.dunning_every_s)
    ctx.after_commit.listen(notices.wake, wants=lambda touched: touched == DUNNING_RUN)
    legal = LegalNotifier(ctx)
    ctx.after_commit.listen(legal.wake)
    pages = PageTokens(settings.internal_secret, settings.service)
    servicer = AccountsServicer(
        ctx, pages, max_import_bytes=config.import_max_bytes, delivery=delivery
    )

    async def close() -> None:
        for channel in channels.values():
            await channel.close()
        await db.dispose()

    reports = assemble_reports(
        AccountsReports(ctx).catalog(),
        AccountsReportsServicer,
        db,
        clock,
        (ReportScheduleRow, ReportRunRow),
        ScheduleConfig.from_env("accounts"),
    )
    outbox_api = OutboxAdminApi.build(settings, db, OutboxEventRow, OutboxActionRow, clock, relay)
    process = ServiceProcess(
        name="accounts",
        listen_addr=settings.listen_addr,
        internal_secret=settings.internal_secret,
        register=reports.servicer.beside(
            outbox_api.beside(
                lambda server: accounts_pb2_grpc.add_AccountsServiceServicer_to_server(
                    servicer, server
                )
            )
        ),
        service_names=(SERVICE_NAME, outbox_api.service_name, reports.servicer.service_name),
        ready_check=db.ping,
        workers=(
            [
                evaluator.run,
                relay.run,
                *([notices.run, dunning.run] if config.dunning_worker else []),
                *([legal.run] if config.legal_worker else []),
                *([reports.worker.run] if config.reports_worker else []),
                *gauge_poll,
            ]
            if settings.workers_enabled
            else []
        ),
        on_close=[close],
    )
    return AccountsParts(process, ctx, evaluator, relay, notices, dunning, legal)
