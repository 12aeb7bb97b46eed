"""Scheduled reports end to end, on both databases: a daily schedule created through the RPC as a
team lead, run by two workers at once (each with its own engine: on PostgreSQL their claims race
for the same rows), delivered once per day as a link through a real SMTP server (aiosmtpd), caught
up after downtime (one run per missed day, at most the configured number), the file downloadable
by its owner only, and send-only-if-data honoured."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

import grpc
import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from common import actor as actors
from common.db import Database
from common.reports.delivery import SmtpMailer
from common.reports.schedule_store import ScheduleStore
from common.reports.schedule_worker import ReportScheduleWorker, ScheduleConfig
from services.accounts.data.models import ReportRunRow, ReportScheduleRow
from services.accounts.service.reports import AccountsReports
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import reports_pb2_grpc
from settle.common.v1 import reports_pb2 as rpb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import as_actor, channel, expect_error

SENDER = "reports@settle.test"
LINK = re.compile(r"http://127\.0\.0\.1:8080/v1/reports/accounts/(artefacts/[0-9a-f]+):download")


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]


@pytest.fixture
def artefact_dir(monkeypatch, tmp_path):
    """Where the service (downloads) and the workers (files) keep artefacts: set before either
    is built, as a deployment's environment would."""
    monkeypatch.setenv("REPORTS_ARTEFACT_DIR", str(tmp_path))
    return tmp_path


pytestmark = pytest.mark.usefixtures("artefact_dir")


@pytest.fixture
async def inbox():
    box = Inbox()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(box), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


@pytest.fixture
async def reports(accounts):
    async with channel(accounts.address) as ch:
        yield reports_pb2_grpc.AccountsReportsServiceStub(ch)


@pytest.fixture
async def workers(accounts, inbox):
    """Two workers as two replicas would run them: their own engines, one mail server."""
    made, databases = [], []
    config = ScheduleConfig.from_env("accounts")
    for _ in range(2):
        db = Database.from_url(accounts.database_url)
        databases.append(db)
        ctx = SimpleNamespace(db=db, clock=accounts.clock)
        made.append(
            ReportScheduleWorker(
                ScheduleStore(db, ReportScheduleRow, ReportRunRow),
                AccountsReports(ctx).catalog(),
                SmtpMailer("127.0.0.1", inbox.port, SENDER, start_tls=False),
                accounts.clock,
                config,
            )
        )
    yield made
    for db in databases:
        await db.dispose()


async def _both(workers) -> None:
    await asyncio.gather(*(w.pass_once() for w in workers))


async def _delivered_periods(workers) -> list[tuple[date, str]]:
    async with workers[0].store.db.reading() as session:
        runs = (
            await session.scalars(select(ReportRunRow).order_by(ReportRunRow.period_first))
        ).all()
    return [(r.period_first, r.state) for r in runs]


async def _portfolio(accounts) -> None:
    customer = await accounts.stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(display_name="Acme", external_ref="acme", currency_code="EUR")
        )
    )
    await accounts.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="A-1",
                invoice_date="2026-01-02",
                due_date="2026-02-01",
                amount=Money(currency_code="EUR", amount="250.00"),
            )
        )
    )


def _daily(**fields) -> rpb.CreateReportScheduleRequest:
    values = dict(
        report="aging-by-customer",
        period="yesterday",
        frequency="daily",
        at="07:00",
        time_zone="Europe/Berlin",
        format=rpb.REPORT_FORMAT_CSV,
        recipients=["lead@example.com"],
    )
    return rpb.CreateReportScheduleRequest(report_schedule=rpb.ReportSchedule(**(values | fields)))


async def test_a_daily_schedule_is_delivered_once_per_day_and_caught_up(
    accounts, reports, workers, inbox
):
    await _portfolio(accounts)
    token = as_actor("user:lee", "team_lead")
    try:
        created = await reports.CreateReportSchedule(_daily())
    finally:
        actors.reset_actor(token)
    assert created.run_as == "user:lee" and created.name.startswith("reportSchedules/")
    # Created Monday 2 March 10:00 Berlin: first due Tuesday 07:00 CET = 06:00 UTC.
    assert created.next_run_time.ToDatetime(UTC) == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)

    await _both(workers)
    assert inbox.envelopes == []  # not due yet
    accounts.clock.set(datetime(2026, 3, 3, 6, 30, tzinfo=UTC))
    await _both(workers)
    await _both(workers)
    assert len(inbox.envelopes) == 1  # two workers, two passes: one delivery
    assert await _delivered_periods(workers) == [(date(2026, 3, 2), "DELIVERED")]

    (message,) = inbox.messages()
    assert message["Subject"] == "Aging by customer: 2026-03-02"
    body = message.get_content()
    assert "Acme" not in body and "250.00" not in body  # a link, never the data
    artefact = LINK.search(body).group(1)
    assert message["Message-ID"].startswith("<" + artefact.split("/")[1] + "@")

    # Down from Wednesday to Saturday morning: Tuesday's to Friday's reports are owed; the three
    # most recent are sent, once each, however many workers look.
    accounts.clock.set(datetime(2026, 3, 7, 6, 30, tzinfo=UTC))
    await _both(workers)
    await _both(workers)
    assert len(inbox.envelopes) == 4
    assert await _delivered_periods(workers) == [
        (date(2026, 3, d), "DELIVERED") for d in (2, 4, 5, 6)
    ]

    token = as_actor("user:lee", "team_lead")
    try:
        parts = [
            p
            async for p in reports.DownloadReportArtefact(
                rpb.DownloadReportArtefactRequest(name=artefact)
            )
        ]
    finally:
        actors.reset_actor(token)
    assert parts[0].content_type == "text/csv; charset=utf-8"
    csv = b"".join(p.data for p in parts).decode()
    assert "Acme" in csv and "250.00" in csv
    token = as_actor("user:eve", "team_lead")
    try:
        await expect_error(
            reports.DownloadReportArtefact(rpb.DownloadReportArtefactRequest(name=artefact)).read(),
            grpc.StatusCode.NOT_FOUND,
        )
    finally:
        actors.reset_actor(token)


async def test_send_only_if_data_skips_an_empty_report(accounts, reports, workers, inbox):
    await _portfolio(accounts)
    token = as_actor("user:carl", "collector")  # no customer is assigned to carl: no rows
    try:
        await reports.CreateReportSchedule(_daily(send_only_if_data=True))
    finally:
        actors.reset_actor(token)
    accounts.clock.set(datetime(2026, 3, 3, 6, 30, tzinfo=UTC))
    await _both(workers)
    assert inbox.envelopes == []
    assert await _delivered_periods(workers) == [(date(2026, 3, 2), "SKIPPED")]


async def test_a_schedule_is_checked_when_created(reports):
    await expect_error(
        reports.CreateReportSchedule(_daily(frequency="hourly", at="7am", recipients=["x"])),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=["report_schedule.frequency", "report_schedule.at", "report_schedule.recipients[0]"],
    )
    await expect_error(
        reports.CreateReportSchedule(_daily(annual_rate="0.08")),  # aging reads no rate
        grpc.StatusCode.INVALID_ARGUMENT,
        field="annual_rate",
    )
    monthly = await reports.CreateReportSchedule(
        _daily(report="dso", period="last_month", frequency="monthly", month_day="last")
    )
    # A period report takes the schedule's period: last month, on the last day of this one.
    assert monthly.next_run_time.ToDatetime(UTC) == datetime(2026, 3, 31, 5, 0, tzinfo=UTC)
