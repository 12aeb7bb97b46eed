"""Composition root of the accounts service: everything the process needs is built here."""

from __future__ import annotations

from common.clock import Clock, SystemClock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.rpc.server import ServiceProcess
from common.settings import Settings
from common.telemetry import Telemetry
from services.accounts.models import IdempotencyKeyRow
from services.accounts.service.context import AccountsContext
from services.accounts.servicer import AccountsServicer
from settle.accounts.v1 import accounts_pb2, accounts_pb2_grpc

SERVICE_NAME = accounts_pb2.DESCRIPTOR.services_by_name["AccountsService"].full_name


def build_context(db: Database, clock: Clock) -> AccountsContext:
    return AccountsContext(
        db=db, clock=clock, idempotency=IdempotencyStore(IdempotencyKeyRow, clock)
    )


def build(
    settings: Settings, telemetry: Telemetry | None = None, clock: Clock | None = None
) -> ServiceProcess:
    db = Database.from_url(settings.database_url)
    if telemetry is not None:
        telemetry.instrument_engine(db.engine)
    ctx = build_context(db, clock or SystemClock())
    servicer = AccountsServicer(ctx)
    return ServiceProcess(
        name="accounts",
        listen_addr=settings.listen_addr,
        internal_secret=settings.internal_secret,
        register=lambda server: accounts_pb2_grpc.add_AccountsServiceServicer_to_server(
            servicer, server
        ),
        service_names=(SERVICE_NAME,),
        ready_check=db.ping,
        on_close=[db.dispose],
    )
