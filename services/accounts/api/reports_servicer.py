"""The accounts ReportsService: the shared reports servicer (common/reports/servicer.py) under this
service's name; its catalog is service/reports.py's."""

from __future__ import annotations

import grpc

from common.reports.servicer import ReportsServicer
from settle.accounts.v1 import reports_pb2, reports_pb2_grpc


class AccountsReportsServicer(ReportsServicer, reports_pb2_grpc.AccountsReportsServiceServicer):
    service_name = reports_pb2.DESCRIPTOR.services_by_name["AccountsReportsService"].full_name

    def register(self, server: grpc.aio.Server) -> None:
        reports_pb2_grpc.add_AccountsReportsServiceServicer_to_server(self, server)
