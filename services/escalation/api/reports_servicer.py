"""The escalation ReportsService: the shared reports servicer over this service's catalog."""

from __future__ import annotations

import grpc

from common.clock import Clock
from common.reports.servicer import ReportsServicer
from services.escalation.service.context import EscalationContext
from services.escalation.service.reports import EscalationReports
from settle.escalation.v1 import reports_pb2, reports_pb2_grpc


class EscalationReportsServicer(ReportsServicer, reports_pb2_grpc.EscalationReportsServiceServicer):
    service_name = reports_pb2.DESCRIPTOR.services_by_name["EscalationReportsService"].full_name

    def __init__(self, ctx: EscalationContext, clock: Clock):
        super().__init__(EscalationReports(ctx).catalog(), clock)

    def register(self, server: grpc.aio.Server) -> None:
        reports_pb2_grpc.add_EscalationReportsServiceServicer_to_server(self, server)
