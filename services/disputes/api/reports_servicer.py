"""The disputes ReportsService: the shared reports servicer over this service's catalog."""

from __future__ import annotations

import grpc

from common.clock import Clock
from common.reports.servicer import ReportsServicer
from services.disputes.service.context import DisputesContext
from services.disputes.service.reports import DisputesReports
from settle.disputes.v1 import reports_pb2, reports_pb2_grpc


class DisputesReportsServicer(ReportsServicer, reports_pb2_grpc.DisputesReportsServiceServicer):
    service_name = reports_pb2.DESCRIPTOR.services_by_name["DisputesReportsService"].full_name

    def __init__(self, ctx: DisputesContext, clock: Clock):
        super().__init__(DisputesReports(ctx).catalog(), clock)

    def register(self, server: grpc.aio.Server) -> None:
        reports_pb2_grpc.add_DisputesReportsServiceServicer_to_server(self, server)
