"""The ReportsService every Settle service offers (settle/<service>/v1/reports.proto), over the
service's own report catalog: RunReport answers the tables as JSON-friendly protobuf, ExportReport
streams the CSV (block by block as its rows are written) or XLSX file as `google.api.HttpBody`
chunks, which the gateway passes through as the HTTP response body with its content type (it
holds no report logic)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import grpc
from google.api import httpbody_pb2  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, struct_pb2

from common.actor import Actor, current_actor
from common.clock import Clock
from common.errors import InvalidArgument, NotFound
from common.ids import parse_name
from common.protoconv import from_timestamp, timestamp
from common.reports.artefact import (
    CHUNK_BYTES,
    CONTENT_TYPES,
    chosen_table,
    chunks,
    write_artefact,
)
from common.reports.catalog import GivenParameters, Parameter, ReportCatalog
from common.reports.csv_export import CsvWriter
from common.reports.envelope import Cell, ReportResult, Table, iterate
from common.reports.schedule_requests import schedule_from, schedule_pb
from common.reports.schedule_store import ScheduleStore, scheduled_parameters
from common.reports.schedules import ExportFormat, covered_period
from common.webhooks import EndpointPolicy
from settle.common.v1 import reports_pb2 as pb

FORMATS = {pb.REPORT_FORMAT_CSV: ExportFormat.CSV, pb.REPORT_FORMAT_XLSX: ExportFormat.XLSX}
DEFAULT_PAGE, MAX_PAGE = 100, 1000


def given(request: pb.RunReportRequest | pb.ExportReportRequest) -> GivenParameters:
    return GivenParameters(
        as_of=from_timestamp(request.as_of) if request.HasField("as_of") else None,
        period_start=request.period_start,
        period_end=request.period_end,
        bucket_bounds=tuple(request.bucket_bounds),
        annual_rate=request.annual_rate,
        targets=tuple(request.targets),
    )


def _value(cell: Cell) -> struct_pb2.Value:
    if cell is None:
        return struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if isinstance(cell, Decimal):
        return struct_pb2.Value(string_value=format(cell, "f"))  # exact: never a double
    if isinstance(cell, int):
        return struct_pb2.Value(number_value=cell)
    if isinstance(cell, date):
        return struct_pb2.Value(string_value=cell.isoformat())
    return struct_pb2.Value(string_value=cell)


async def _table_pb(table: Table) -> pb.ReportTable:
    message = pb.ReportTable(
        name=table.name,
        columns=[
            pb.ReportColumn(name=c.name, type=c.type.value, currency_column=c.currency_column or "")
            for c in table.columns
        ],
    )
    async for row in iterate(table.rows):
        message.rows.add().values.extend(_value(cell) for cell in row)
    return message


async def result_pb(result: ReportResult) -> pb.ReportResult:
    return pb.ReportResult(
        report=result.report,
        as_of=timestamp(result.as_of),
        generated_at=timestamp(result.generated_at),
        parameters=dict(result.parameters),
        formula_version=result.formula_version,
        data_watermark=result.data_watermark,
        tables=[await _table_pb(table) for table in result.tables],
    )


class ReportsServicer:
    """Mixed into each service's generated ReportsService servicer (its api/reports_servicer.py),
    which names the service and registers it."""

    service_name: str

    def __init__(
        self,
        catalog: ReportCatalog,
        clock: Clock,
        schedules: ScheduleStore,
        artefacts: Path,
        *,
        webhooks: EndpointPolicy | None = None,  # None: webhook recipients are refused
    ):
        self.catalog = catalog
        self.clock = clock
        self.schedules = schedules
        self.artefacts = artefacts
        self.webhooks = webhooks

    def register(self, server: grpc.aio.Server) -> None:
        raise NotImplementedError

    def beside(self, register: Callable[[grpc.aio.Server], None]):
        """The service's own `register`, then this servicer: for ServiceProcess.register."""

        def both(server: grpc.aio.Server) -> None:
            register(server)
            self.register(server)

        return both

    async def _run(self, request) -> ReportResult:
        report = self.catalog.get(request.report)
        parameters = self.catalog.parameters(request.report, given(request), self.clock.now())
        return await report.compute(parameters, current_actor())

    async def RunReport(self, request: pb.RunReportRequest, context) -> pb.ReportResult:
        return await result_pb(await self._run(request))

    async def ExportReport(
        self, request: pb.ExportReportRequest, context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        export_format = FORMATS.get(request.format)
        if export_format is None:
            raise InvalidArgument.of(
                "format", "is required: REPORT_FORMAT_CSV or REPORT_FORMAT_XLSX"
            )
        result = await self._run(request)
        content_type = CONTENT_TYPES[export_format]
        if export_format is ExportFormat.CSV:
            # Each block leaves as soon as its rows are written: no file, no whole report held,
            # and the first bytes reach the caller while the query is still being read.
            writer = CsvWriter(chosen_table(result, request.table))
            async for block in writer.blocks(CHUNK_BYTES):
                yield httpbody_pb2.HttpBody(content_type=content_type, data=block)
            return
        # An XLSX is a zip whose directory is written last: spooled to a file, then streamed.
        with tempfile.TemporaryDirectory(prefix="settle-report-") as directory:
            path = Path(directory) / f"report.{export_format.value}"
            await write_artefact(result, export_format, path, request.table)
            async for block in chunks(path):
                yield httpbody_pb2.HttpBody(content_type=content_type, data=block)

    async def CreateReportSchedule(
        self, request: pb.CreateReportScheduleRequest, context
    ) -> pb.ReportSchedule:
        schedule = schedule_from(request.report_schedule, current_actor().subject, self.webhooks)
        report = self.catalog.get(schedule.report)  # NOT_FOUND for an unknown report
        now = self.clock.now()
        sample = covered_period(schedule.period, now, schedule.recurrence.zone)
        # The parameters must make a valid run: refused now, not at 7 in the morning.
        given = scheduled_parameters(schedule, sample, Parameter.PERIOD in report.accepts)
        self.catalog.parameters(schedule.report, given, now)
        return schedule_pb(await self.schedules.create(schedule, current_actor(), now))

    async def ListReportSchedules(
        self, request: pb.ListReportSchedulesRequest, context
    ) -> pb.ListReportSchedulesResponse:
        size = _page_size(request.page_size)
        after = (
            parse_name(f"s/{request.page_token}", "s", "page_token") if request.page_token else ""
        )
        rows = await self.schedules.listed(_owner(current_actor()), after, size + 1)
        return pb.ListReportSchedulesResponse(
            report_schedules=[schedule_pb(row) for row in rows[:size]],
            next_page_token=rows[size - 1].id if len(rows) > size else "",
        )

    async def DeleteReportSchedule(
        self, request: pb.DeleteReportScheduleRequest, context
    ) -> empty_pb2.Empty:
        schedule_id = parse_name(request.name, "reportSchedules")
        if not await self.schedules.deactivate(schedule_id, _owner(current_actor())):
            raise NotFound(f"no active report schedule {request.name[:80]!r}")
        return empty_pb2.Empty()

    async def ListReportRuns(
        self, request: pb.ListReportRunsRequest, context
    ) -> pb.ListReportRunsResponse:
        schedule_id = parse_name(request.parent, "reportSchedules", "parent")
        if await self.schedules.owned(schedule_id, _owner(current_actor())) is None:
            raise NotFound(f"no report schedule {request.parent[:80]!r}")
        size = _page_size(request.page_size)
        after = _run_key(request.page_token)
        runs = await self.schedules.runs_of(schedule_id, after, size + 1)
        last = runs[size - 1] if len(runs) > size else None
        return pb.ListReportRunsResponse(
            report_runs=[_run_pb(request.parent, run) for run in runs[:size]],
            next_page_token=f"{last.period_first.isoformat()}~{last.id}" if last else "",
        )

    async def DownloadReportArtefact(
        self, request: pb.DownloadReportArtefactRequest, context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        run_id = parse_name(request.name, "artefacts")
        found = await self.schedules.artefact(run_id)
        if found is None or found[0].artefact is None or not _may_read(current_actor(), found[1]):
            raise NotFound("no such report file (or it is no longer kept)")
        run, name = found[0], found[0].artefact
        async for block in chunks(self.artefacts / name):
            yield httpbody_pb2.HttpBody(content_type=run.content_type or "", data=block)


def _owner(actor: Actor) -> str | None:
    """Whose schedules a caller manages: their own, or everyone's (None) for an admin."""
    return None if actor.has_role("admin") else actor.subject


def _page_size(asked: int) -> int:
    if asked < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    return min(asked or DEFAULT_PAGE, MAX_PAGE)


def _run_key(token: str) -> tuple[date, str] | None:
    """A runs page token: the (period start, id) of the last run answered."""
    if not token:
        return None
    day, _, run_id = token.partition("~")
    try:
        return date.fromisoformat(day), parse_name(f"runs/{run_id}", "runs", "page_token")
    except ValueError:
        raise InvalidArgument.of("page_token", "is not a token this list gave") from None


def _run_pb(parent: str, run) -> pb.ReportRun:
    message = pb.ReportRun(
        name=f"{parent}/runs/{run.id}",
        state=run.state,
        period_start=run.period_first.isoformat(),
        period_end=run.period_last.isoformat(),
        due_time=timestamp(run.due_at),
        attempts=run.attempts,
        last_error=run.last_error or "",
        artefact=f"artefacts/{run.id}" if run.artefact else "",
    )
    if run.rows is not None:
        message.rows = run.rows
    if run.finished_at is not None:
        message.finish_time.CopyFrom(timestamp(run.finished_at))
    return message


def _may_read(reader: Actor, schedule) -> bool:
    """A file holds what its schedule's identity could see: its owner reads it, and admins."""
    return reader.subject == schedule.run_as_subject or reader.has_role("admin")
