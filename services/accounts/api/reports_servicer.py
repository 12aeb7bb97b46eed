"""The accounts ReportsService: the shared reports servicer over this service's catalog."""

from __future__ import annotations

import grpc

from common.clock import Clock
from common.reports.servicer import ReportsServicer
from services.accounts.service.context import AccountsContext
from services.accounts.service.reports import AccountsReports
from settle.accounts.v1 import reports_pb2, reports_pb2_grpc


class AccountsReportsServicer(ReportsServicer, reports_pb2_grpc.AccountsReportsServiceServicer):
    service_name = reports_pb2.DESCRIPTOR.services_by_name["AccountsReportsService"].full_name

    def __init__(self, ctx: AccountsContext, clock: Clock):
        super().__init__(AccountsReports(ctx).catalog(), clock)

    def register(self, server: grpc.aio.Server) -> None:
        reports_pb2_grpc.add_AccountsReportsServiceServicer_to_server(self, server)
