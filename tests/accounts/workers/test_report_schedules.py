"""Scheduled reports end to end, on both databases: a daily schedule created through the RPC as a
team lead, run by two workers at once (each with its own engine: on PostgreSQL their claims race
for the same rows), delivered once per day as a link through a real SMTP server (aiosmtpd), caught
up after downtime (one run per missed day, at most the configured number), the file downloadable
by its owner only, and send-only-if-data honoured; schedules listed and deleted, their runs listed,
a failing run parked with its error after its attempts, and a webhook recipient sent the signed
link."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import grpc
import httpx
import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from common import actor as actors
from common.db import Database
from common.reports.delivery import SmtpMailer
from common.reports.schedule_store import ScheduleStore
from common.reports.schedule_worker import ReportScheduleWorker, ScheduleConfig
from common.reports.webhook import Deliveries, WebhookSender
from common.webhooks import EndpointPolicy, verify
from services.accounts.data.report_models import ReportRunRow, ReportScheduleRow
from services.accounts.service.reports import AccountsReports
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import reports_pb2_grpc
from settle.common.v1 import reports_pb2 as rpb
from settle.common.v1.common_pb2 import Money
from tests.escalation.receiver import receiving
from tests.support.rpc import as_actor, channel, expect_error

SENDER = "reports@settle.test"
WEBHOOK_SECRET = "report-webhook-secret-16"
LOOPBACK = EndpointPolicy.parse(["127.0.0.1/32"], https_only=False)  # the test receiver only
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
    async with _workers(accounts, inbox.port, ScheduleConfig.from_env("accounts")) as made:
        yield made


@pytest.fixture(autouse=True)
def schedules_left_to_the_tests_workers(monkeypatch):
    """The service under test runs no schedule worker of its own: the tests drive theirs (two
    replicas, a refusing mail server) pass by pass, and a third worker in the service would
    claim runs between their passes (it delivered a run the refusing server should have parked)."""
    monkeypatch.setenv("ACCOUNTS_REPORTS_WORKER", "off")


@asynccontextmanager
async def _workers(accounts, smtp_port: int, config: ScheduleConfig):
    made, databases = [], []
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            db = Database.from_url(accounts.database_url)
            databases.append(db)
            ctx = SimpleNamespace(db=db, clock=accounts.clock)
            mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, start_tls=False, timeout=5)
            made.append(
                ReportScheduleWorker(
                    ScheduleStore(db, ReportScheduleRow, ReportRunRow),
                    AccountsReports(ctx).catalog(),
                    Deliveries(mailer, WebhookSender(client, LOOPBACK, WEBHOOK_SECRET)),
                    accounts.clock,
                    config,
                )
            )
        try:
            yield made
        finally:
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


async def _as(subject: str, role: str, call):
    """`call()` as this user: the identity is taken when the call starts."""
    token = as_actor(subject, role)
    try:
        return await call()
    finally:
        actors.reset_actor(token)


async def test_schedules_are_listed_deleted_and_their_runs_listed(
    accounts, reports, workers, inbox
):
    await _portfolio(accounts)
    create = reports.CreateReportSchedule
    first = await _as("user:lee", "team_lead", lambda: create(_daily()))
    second = await _as("user:lee", "team_lead", lambda: create(_daily(at="08:00")))
    theirs = await _as("user:eve", "team_lead", lambda: create(_daily()))
    mine = await _as("user:lee", "team_lead", lambda: reports.ListReportSchedules(
        rpb.ListReportSchedulesRequest(page_size=1)))  # fmt: skip
    assert [s.name for s in mine.report_schedules] == [first.name] and mine.next_page_token
    rest = await _as("user:lee", "team_lead", lambda: reports.ListReportSchedules(
        rpb.ListReportSchedulesRequest(page_size=1, page_token=mine.next_page_token)))  # fmt: skip
    assert [s.name for s in rest.report_schedules] == [second.name]
    assert rest.report_schedules[0].at == "08:00" and rest.report_schedules[0].active
    everyone = await _as("user:root", "admin", lambda: reports.ListReportSchedules(
        rpb.ListReportSchedulesRequest()))  # fmt: skip
    assert {s.name for s in everyone.report_schedules} == {first.name, second.name, theirs.name}

    accounts.clock.set(datetime(2026, 3, 3, 6, 30, tzinfo=UTC))
    await _both(workers)
    runs = await _as("user:lee", "team_lead", lambda: reports.ListReportRuns(
        rpb.ListReportRunsRequest(parent=first.name)))  # fmt: skip
    (run,) = runs.report_runs
    assert (run.state, run.period_start, run.rows, run.attempts) == (
        "DELIVERED",
        "2026-03-02",
        1,
        1,
    )
    assert run.artefact.startswith("artefacts/") and run.last_error == ""

    delete = rpb.DeleteReportScheduleRequest(name=first.name)
    await expect_error(  # another user's schedule is not theirs to see
        _as("user:eve", "team_lead", lambda: reports.DeleteReportSchedule(delete)),
        grpc.StatusCode.NOT_FOUND,
    )
    await _as("user:lee", "team_lead", lambda: reports.DeleteReportSchedule(delete))
    await expect_error(
        _as("user:lee", "team_lead", lambda: reports.DeleteReportSchedule(delete)),
        grpc.StatusCode.NOT_FOUND,
    )
    mine = await _as("user:lee", "team_lead", lambda: reports.ListReportSchedules(
        rpb.ListReportSchedulesRequest()))  # fmt: skip
    assert [s.name for s in mine.report_schedules] == [second.name]
    accounts.clock.set(datetime(2026, 3, 4, 7, 30, tzinfo=UTC))
    await _both(workers)
    runs = await _as("user:lee", "team_lead", lambda: reports.ListReportRuns(
        rpb.ListReportRunsRequest(parent=first.name)))  # fmt: skip
    assert len(runs.report_runs) == 1  # deleted: no run for the 3rd; its file stays listed
    runs = await _as("user:lee", "team_lead", lambda: reports.ListReportRuns(
        rpb.ListReportRunsRequest(parent=second.name)))  # fmt: skip
    assert [r.period_start for r in runs.report_runs] == ["2026-03-03", "2026-03-02"]


async def test_a_failing_run_is_parked_with_its_error_after_its_attempts(accounts, reports):
    await _portfolio(accounts)
    created = await _as("user:lee", "team_lead", lambda: reports.CreateReportSchedule(_daily()))
    config = replace(ScheduleConfig.from_env("accounts"), max_attempts=2)
    async with _workers(accounts, 1, config) as refused:  # no mail server on port 1
        for minutes in (30, 36, 42, 48):  # retried 5 minutes after a failure
            accounts.clock.set(datetime(2026, 3, 3, 6, minutes, tzinfo=UTC))
            await _both(refused)
    runs = await _as("user:lee", "team_lead", lambda: reports.ListReportRuns(
        rpb.ListReportRunsRequest(parent=created.name)))  # fmt: skip
    (run,) = runs.report_runs
    assert (run.state, run.attempts) == ("FAILED", 2)  # parked: not retried a third time
    assert run.last_error.startswith("DeliveryFailed: SMTP 127.0.0.1:1")
    assert run.finish_time.ToDatetime(UTC) == datetime(2026, 3, 3, 6, 36, tzinfo=UTC)


@pytest.fixture
def webhooks_on(monkeypatch):
    """Webhook delivery configured for the service before it is built (its schedule checks)."""
    monkeypatch.setenv("REPORTS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("REPORTS_WEBHOOK_ALLOW", "127.0.0.1/32")
    monkeypatch.setenv("REPORTS_WEBHOOK_HTTPS_ONLY", "false")


async def test_a_webhook_recipient_is_sent_the_signed_link(
    webhooks_on, accounts, reports, workers, inbox
):
    await _portfolio(accounts)
    await expect_error(  # the address policy of escalation's webhooks: no metadata service
        reports.CreateReportSchedule(_daily(recipients=["http://169.254.169.254/latest"])),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="report_schedule.recipients[0]",
    )
    async with receiving() as receiver:
        hook = receiver.base + "/healthy"
        await _as("user:lee", "team_lead", lambda: reports.CreateReportSchedule(
            _daily(recipients=["lead@example.com", hook])))  # fmt: skip
        accounts.clock.set(datetime(2026, 3, 3, 6, 30, tzinfo=UTC))
        await _both(workers)
        await _both(workers)
    (hit,) = receiver.accepted("/healthy")
    assert verify(WEBHOOK_SECRET, hit.body, hit.signature)
    sent = json.loads(hit.body)
    assert sent["report"] == "aging-by-customer" and sent["period_end"] == "2026-03-02"
    assert LINK.fullmatch(sent["link"]) and "Acme" not in hit.body.decode()
    assert sent["delivery_id"] == hit.delivery and len(inbox.envelopes) == 1
    assert await _delivered_periods(workers) == [(date(2026, 3, 2), "DELIVERED")]


async def test_a_run_whose_worker_dies_every_attempt_is_parked(accounts, reports, workers):
    """A worker that dies mid-run leaves its run to another after the lease; once the last
    attempt's lease runs out too, the run is parked instead of claimed again."""
    created = await _as("user:lee", "team_lead", lambda: reports.CreateReportSchedule(_daily()))
    store, lease = workers[0].store, timedelta(minutes=10)
    now = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)
    await store.plan(now, catch_up_limit=3)
    for _ in range(2):  # claimed, and its worker never comes back
        assert len(await store.claim(now, lease, batch=10, max_attempts=2)) == 1
        now += lease + timedelta(minutes=1)
    assert await store.claim(now, lease, batch=10, max_attempts=2) == []
    runs = await _as("user:lee", "team_lead", lambda: reports.ListReportRuns(
        rpb.ListReportRunsRequest(parent=created.name)))  # fmt: skip
    (run,) = runs.report_runs
    assert (run.state, run.attempts) == ("FAILED", 2)
    assert run.last_error == "its worker stopped during all 2 attempts"
