"""Composition root of the escalation service: everything the process needs is built here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

import grpc
import httpx

from common.clock import Clock, SystemClock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.listing import PageTokens
from common.metrics import ESCALATIONS_OPEN, SettleMetrics
from common.outbox import Outbox, OutboxRelay
from common.outbox_admin_api import OutboxAdminApi
from common.reports.assembly import assemble_reports
from common.reports.schedule_worker import ScheduleConfig
from common.rpc.client import open_channel
from common.rpc.server import ServiceProcess, Worker
from common.settings import Settings, service_addr
from common.telemetry import Telemetry
from common.webhooks import EndpointPolicy
from services.escalation.api import convert
from services.escalation.api.cursors import WatchCursors
from services.escalation.api.reports_servicer import EscalationReportsServicer
from services.escalation.api.servicer import EscalationServicer
from services.escalation.config import EscalationConfig
from services.escalation.data import reads
from services.escalation.data.models import (
    IdempotencyKeyRow,
    OutboxActionRow,
    OutboxEventRow,
    ReportRunRow,
    ReportScheduleRow,
)
from services.escalation.outbound import disputes_sender
from services.escalation.outbound.disputes import DESTINATION
from services.escalation.outbound.webhooks import USER_AGENT, WebhookClient
from services.escalation.service.context import EscalationContext
from services.escalation.service.reports import EscalationReports
from services.escalation.service.watch import Feed
from services.escalation.workers.sweeper import OlaSweeper
from services.escalation.workers.webhooks import WebhookDispatcher
from settle.escalation.v1 import escalation_pb2, escalation_pb2_grpc

SERVICE_NAME = escalation_pb2.DESCRIPTOR.services_by_name["EscalationService"].full_name


@dataclass
class EscalationParts:
    """The process and the pieces tests and tools reach into (workers can be run by hand)."""

    process: ServiceProcess
    ctx: EscalationContext
    feed: Feed
    sweeper: OlaSweeper
    dispatcher: WebhookDispatcher
    relay: OutboxRelay
    disputes_channel: grpc.aio.Channel


def assemble(
    settings: Settings,
    telemetry: Telemetry | None = None,
    clock: Clock | None = None,
    *,
    config: EscalationConfig | None = None,
) -> EscalationParts:
    config = config or EscalationConfig.from_env()
    clock = clock or SystemClock()
    db = Database.from_url(settings.database_url)
    cursors = WatchCursors(settings.internal_secret)
    if telemetry is not None:
        telemetry.instrument_engine(db.engine)
    metrics = telemetry.metrics if telemetry is not None else SettleMetrics.noop()
    ctx = EscalationContext(
        db=db,
        clock=clock,
        idempotency=IdempotencyStore(IdempotencyKeyRow, clock),
        outbox=Outbox(OutboxEventRow, clock),
        render_event=partial(convert.event_body, cursors),
        metrics=metrics,
    )
    feed = Feed(poll_s=config.watch_poll_s)
    http = httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": USER_AGENT})
    disputes = open_channel(
        settings.downstream.get(DESTINATION) or service_addr(DESTINATION),
        secret=settings.internal_secret,
        service="escalation",
        default_deadline_s=settings.default_deadline_s,
    )
    sweeper = OlaSweeper(ctx, poll_s=config.sweep_poll_s)
    endpoints = EndpointPolicy.parse(config.webhook_allow, https_only=not settings.development)
    webhooks = WebhookClient(http, config.dispatch.timeout_s, endpoints)
    dispatcher = WebhookDispatcher(db, clock, webhooks, config.dispatch)
    relay = OutboxRelay(
        db,
        OutboxEventRow,
        clock,
        {DESTINATION: disputes},
        config.relay,
        metrics=metrics,
        batch_senders=disputes_sender.SENDERS,
    )
    ctx.signals.listen(feed.wake)
    ctx.signals.listen(relay.wake)
    ctx.signals.listen(sweeper.wake, wants=sweeper.wants)
    ctx.signals.listen(dispatcher.wake, wants=lambda touched: touched.deliveries > 0)

    async def end_streams(stop: asyncio.Event) -> None:
        # Watch streams never end by themselves; end them first so shutdown is not held up.
        await stop.wait()
        feed.close()

    async def open_escalations():
        async with db.reading() as session:
            counts = await reads.count_open(session)
        return {
            ESCALATIONS_OPEN: [
                (n, {"status": state, "team": team}) for (team, state), n in counts.items()
            ]
        }

    pages = PageTokens(settings.internal_secret, settings.service)
    servicer = EscalationServicer(ctx, feed, cursors, pages, endpoints)
    workers: list[Worker] = [end_streams]
    if settings.workers_enabled:
        workers += [sweeper.run, dispatcher.run, relay.run]
        workers.append(metrics.poll([ESCALATIONS_OPEN], open_escalations))
    reports = assemble_reports(
        EscalationReports(ctx).catalog(),
        EscalationReportsServicer,
        db,
        clock,
        (ReportScheduleRow, ReportRunRow),
        ScheduleConfig.from_env("escalation"),
    )
    outbox_api = OutboxAdminApi.build(settings, db, OutboxEventRow, OutboxActionRow, clock, relay)
    process = ServiceProcess(
        name="escalation",
        listen_addr=settings.listen_addr,
        internal_secret=settings.internal_secret,
        register=reports.servicer.beside(
            outbox_api.beside(
                lambda server: escalation_pb2_grpc.add_EscalationServiceServicer_to_server(
                    servicer, server
                )
            )
        ),
        service_names=(SERVICE_NAME, outbox_api.service_name, reports.servicer.service_name),
        ready_check=db.ping,
        workers=[*workers, reports.worker.run] if settings.workers_enabled else workers,
        on_close=[disputes.close, http.aclose, db.dispose],
    )
    return EscalationParts(process, ctx, feed, sweeper, dispatcher, relay, disputes)
