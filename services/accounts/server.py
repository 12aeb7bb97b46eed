"""Composition root of the accounts service: everything the process needs is built here."""

from __future__ import annotations

from dataclasses import dataclass

from common.clock import Clock, SystemClock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.listing import PageTokens
from common.rpc.server import ServiceProcess
from common.settings import Settings
from common.telemetry import Telemetry
from services.accounts.api.servicer import AccountsServicer
from services.accounts.config import AccountsConfig
from services.accounts.data.models import IdempotencyKeyRow
from services.accounts.service.context import AccountsContext
from settle.accounts.v1 import accounts_pb2, accounts_pb2_grpc

SERVICE_NAME = accounts_pb2.DESCRIPTOR.services_by_name["AccountsService"].full_name


@dataclass
class AccountsParts:
    """The built process and what runs without it (the import command uses the context)."""

    process: ServiceProcess
    ctx: AccountsContext


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
    )
    pages = PageTokens(settings.internal_secret, settings.service)
    servicer = AccountsServicer(ctx, pages, max_import_bytes=config.import_max_bytes)
    process = ServiceProcess(
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
    return AccountsParts(process, ctx)


def build(
    settings: Settings, telemetry: Telemetry | None = None, clock: Clock | None = None
) -> ServiceProcess:
    """The process alone: what `common.main.run_service` and the tests start."""
    return assemble(settings, telemetry, clock).process
