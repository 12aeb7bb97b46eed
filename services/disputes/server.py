"""Composition root of the disputes service: everything the process needs is built here."""

from __future__ import annotations

from dataclasses import dataclass

from common.clock import Clock, SystemClock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.listing import PageTokens
from common.outbox import Outbox, OutboxRelay
from common.outbox_admin_api import OutboxAdminApi
from common.reports.assembly import assemble_reports
from common.reports.schedule_worker import ScheduleConfig
from common.rpc.client import open_channel
from common.rpc.server import ServiceProcess
from common.settings import Settings
from common.telemetry import Telemetry
from services.disputes.api.reports_servicer import DisputesReportsServicer
from services.disputes.api.servicer import DisputesServicer
from services.disputes.config import DisputesConfig
from services.disputes.data.models import (
    IdempotencyKeyRow,
    OutboxActionRow,
    OutboxEventRow,
    ReportRunRow,
    ReportScheduleRow,
)
from services.disputes.outbound import escalation_sender
from services.disputes.outbound.accounts_client import AccountsClient
from services.disputes.service.context import DisputesContext
from services.disputes.service.reports import DisputesReports
from services.disputes.workers import gauges
from services.disputes.workers.sweeper import Sweeper
from settle.disputes.v1 import disputes_pb2, disputes_pb2_grpc

SERVICE_NAME = disputes_pb2.DESCRIPTOR.services_by_name["DisputesService"].full_name
DOWNSTREAM = ("accounts", "escalation")


@dataclass
class DisputesParts:
    """The built process and the parts tests drive directly (sweeper, relay)."""

    process: ServiceProcess
    ctx: DisputesContext
    sweeper: Sweeper
    relay: OutboxRelay


def assemble(
    settings: Settings,
    telemetry: Telemetry | None = None,
    clock: Clock | None = None,
    *,
    config: DisputesConfig | None = None,
) -> DisputesParts:
    config = config or DisputesConfig.from_env()
    clock = clock or SystemClock()
    db = Database.from_url(settings.database_url)
    if telemetry is not None:
        telemetry.instrument_engine(db.engine)
    channels = {
        name: open_channel(
            settings.downstream[name],
            secret=settings.internal_secret,
            service="disputes",
            default_deadline_s=settings.default_deadline_s,
        )
        for name in DOWNSTREAM
    }
    ctx = DisputesContext(
        db=db,
        clock=clock,
        idempotency=IdempotencyStore(IdempotencyKeyRow, clock),
        outbox=Outbox(OutboxEventRow, clock),
        accounts=AccountsClient(channels["accounts"]),
    )
    gauge_poll = []  # without telemetry: the global tracer and SettleMetrics.noop() (context.py)
    if telemetry is not None:
        ctx.tracer = telemetry.tracer("settle.disputes")
        ctx.metrics = telemetry.metrics
        gauge_poll.append(ctx.metrics.poll(gauges.GAUGES, lambda: gauges.read(ctx)))
    sweeper = Sweeper(ctx, batch=config.sweep_batch, max_sleep_s=config.sweep_poll_s)
    relay = OutboxRelay(
        db,
        OutboxEventRow,
        clock,
        channels,
        config.relay,
        metrics=telemetry.metrics if telemetry else None,
        batch_senders=escalation_sender.SENDERS,
    )
    ctx.after_commit.listen(sweeper.wake)
    ctx.after_commit.listen(relay.wake)
    servicer = DisputesServicer(ctx, PageTokens(settings.internal_secret, settings.service))

    async def close() -> None:
        for channel in channels.values():
            await channel.close()
        await db.dispose()

    reports = assemble_reports(
        DisputesReports(ctx).catalog(),
        DisputesReportsServicer,
        db,
        clock,
        (ReportScheduleRow, ReportRunRow),
        ScheduleConfig.from_env("disputes"),
    )
    outbox_api = OutboxAdminApi.build(settings, db, OutboxEventRow, OutboxActionRow, clock, relay)
    process = ServiceProcess(
        name="disputes",
        listen_addr=settings.listen_addr,
        internal_secret=settings.internal_secret,
        register=reports.servicer.beside(
            outbox_api.beside(
                lambda server: disputes_pb2_grpc.add_DisputesServiceServicer_to_server(
                    servicer, server
                )
            )
        ),
        service_names=(SERVICE_NAME, outbox_api.service_name, reports.servicer.service_name),
        ready_check=db.ping,
        workers=(
            [sweeper.run, relay.run, reports.worker.run, *gauge_poll]
            if settings.workers_enabled
            else []
        ),
        on_close=[close],
    )
    return DisputesParts(process, ctx, sweeper, relay)
