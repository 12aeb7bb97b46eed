"""The disputes ReportsService: the shared reports servicer (common/reports/servicer.py) under this
service's name; its catalog is service/reports.py's."""

from __future__ import annotations

import grpc

from common.reports.servicer import ReportsServicer
from settle.disputes.v1 import reports_pb2, reports_pb2_grpc


class DisputesReportsServicer(ReportsServicer, reports_pb2_grpc.DisputesReportsServiceServicer):
    service_name = reports_pb2.DESCRIPTOR.services_by_name["DisputesReportsService"].full_name

    def register(self, server: grpc.aio.Server) -> None:
        reports_pb2_grpc.add_DisputesReportsServiceServicer_to_server(self, server)
