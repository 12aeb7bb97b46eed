"""Dunning end to end through a real gRPC server, on SQLite and PostgreSQL, with the notices
delivered to a real SMTP server (aiosmtpd on 127.0.0.1): a partly disputed, partly promised
invoice is chased for exactly the rest, once; a second run sends nothing; a refused send is
retried, visible meanwhile, and delivered once."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from common.actor import reset_actor
from common.clock import ManualClock
from services.accounts.data.models import OutboxEventRow
from services.accounts.outbound.escalations import METHOD
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.common.v1.common_pb2 import Money
from settle.escalation.v1 import escalation_pb2
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, expect_error, running

CARL, LENA = "user:carl", "user:lena"


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


class Inbox:
    def __init__(self):
        self.envelopes = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 Transaction failed"
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in self.envelopes
        ]


@pytest.fixture
async def dunning(backend, database_factory, monkeypatch):
    """The accounts service (workers off: the tests run the sender's passes) mailing to a real
    SMTP server on loopback; the caller a collector whose customer is assigned to him."""
    inbox = Inbox()
    smtp = await asyncio.get_running_loop().create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    port = smtp.sockets[0].getsockname()[1]
    monkeypatch.setenv("ACCOUNTS_MAIL_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("ACCOUNTS_MAIL_FROM", "ar@settle.example.com")
    url = database_factory.new_url(backend, "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    settings = accounts_settings(url)
    settings = type(settings)(**{**vars(settings), "workers_enabled": False})
    parts = assemble(settings, clock=clock)
    token = as_actor(CARL, "collector")
    try:
        async with running(parts.process) as address, channel(address) as ch:
            yield Desk(accounts_pb2_grpc.AccountsServiceStub(ch), clock, parts, inbox, ch)
    finally:
        reset_actor(token)
        smtp.close()
        await smtp.wait_closed()


class Desk:
    def __init__(self, stub, clock, parts, inbox, ch):
        self.stub, self.clock, self.parts, self.inbox = stub, clock, parts, inbox
        self.channel = ch  # the same server's other services (reports)

    async def customer(self):
        customer = await self.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(
                    display_name="Acme GmbH",
                    external_ref="C-1",
                    currency_code="EUR",
                    country_code="DE",
                    time_zone="Europe/Berlin",
                    contacts=[
                        pb.Contact(name="Ann Payable", email="ann@acme.example", language="en")
                    ],
                )
            )
        )
        token = as_actor(LENA, "team_lead", team="DACH")
        try:
            await self.stub.BulkReassignCustomers(
                pb.BulkReassignCustomersRequest(customers=[customer.name], collector=CARL)
            )
        finally:
            reset_actor(token)
        return customer

    async def disputed_and_promised_invoice(self, customer):
        """1,000.00 due 2026-01-30 (31 days overdue: FIRM), 300.00 disputed, 500.00 promised."""
        invoice = await self.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name,
                    external_number="INV-1",
                    invoice_date="2025-12-31",
                    due_date="2026-01-30",
                    amount=eur("1000.00"),
                )
            )
        )
        await self.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name, dispute="disputes/d1", amount=eur("300.00"), request_id="h1"
            )
        )
        await self.stub.CreatePromise(
            pb.CreatePromiseRequest(
                parent=customer.name,
                promise_plan=pb.PromisePlan(
                    promise=pb.PromiseToPay(
                        amount=eur("500.00"), promised_date="2026-03-10", invoices=[invoice.name]
                    )
                ),
            )
        )
        return invoice

    async def run(self, customer, reevaluate=False):
        return await self.stub.RunDunning(
            pb.RunDunningRequest(customers=[customer.name], reevaluate=reevaluate)
        )

    async def notices(self, customer):
        return (await self.stub.ListNotices(pb.ListNoticesRequest(customer=customer.name))).notices

    async def send(self):
        return await self.parts.notices.send_once()


async def test_a_notice_chases_exactly_the_remaining_amount_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)

    run = await dunning.run(customer)
    assert run.evaluated_customers == 1 and run.notices == 1
    (decision,) = run.decisions
    assert decision.outcome == "NOTICE" and decision.level == 4
    assert decision.total == eur("200.00")
    assert await dunning.send() == 1

    (message,) = dunning.inbox.messages()
    key = f"dun.{customer.name.removeprefix('customers/')}.EUR.4.20260302"
    assert message["Message-ID"].strip() == f"<{key}@settle.example.com>"  # long: folded
    assert message["To"] == "ann@acme.example"
    text = message.get_body(("plain",)).get_content()
    assert "€200.00" in text and "€300.00" in text and "€500.00" in text
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 1 and notice.key == key
    assert notice.total == eur("200.00")
    (line,) = notice.lines
    assert (line.open, line.in_dispute, line.promised, line.due_now) == (
        eur("1000.00"), eur("300.00"), eur("500.00"), eur("200.00"),
    )  # fmt: skip

    again = await dunning.run(customer)  # the same day: already evaluated
    assert again.evaluated_customers == 0 and again.notices == 0
    forced = await dunning.run(customer, reevaluate=True)
    assert forced.evaluated_customers == 1 and forced.notices == 0
    assert forced.decisions[0].outcome == "NO_NEW_LEVEL"
    assert await dunning.send() == 0
    assert len(dunning.inbox.envelopes) == 1
    assert len(await dunning.notices(customer)) == 1
    timeline = await dunning.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name)
    )
    (entry,) = [e for e in timeline.entries if e.kind == "NOTICE"]
    assert (entry.subject, entry.event, entry.amount) == (notice.name, "FIRM", eur("200.00"))


async def test_without_a_promise_the_run_settles_by_counts_until_an_invoice_reaches_a_new_level(
    dunning,
):
    """The run's SQL counts (data/dunning_batch.chase_counts) decide customers without reading
    their books: an invoice already chased at its level is NO_NEW_LEVEL, one not yet due is
    NOTHING_DUNNABLE; the day an invoice reaches the next level it is chased again."""
    customer = await dunning.customer()
    for number, due in (("INV-OLD", "2026-01-30"), ("INV-NEW", "2026-04-30")):
        await dunning.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name, external_number=number, invoice_date="2025-12-31",
                    due_date=due, amount=eur("400.00"),
                )
            )
        )  # fmt: skip
    first = await dunning.run(customer)
    assert (first.decisions[0].outcome, first.decisions[0].level) == ("NOTICE", 4)  # 31 days
    dunning.clock.advance(timedelta(days=10))  # 41 days: still FIRM
    quiet = await dunning.run(customer)
    assert quiet.decisions[0].outcome == "NO_NEW_LEVEL" and quiet.notices == 0
    dunning.clock.advance(timedelta(days=4))  # 45 days: FINAL
    final = await dunning.run(customer)
    assert (final.decisions[0].outcome, final.decisions[0].level) == ("NOTICE", 5)
    other = await dunning.stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(
                display_name="Later Ltd", external_ref="C-2", currency_code="EUR",
                country_code="DE", time_zone="Europe/Berlin",
            )
        )
    )  # fmt: skip
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=other.name, external_number="INV-L", invoice_date="2026-03-01",
                due_date="2026-06-30", amount=eur("90.00"),
            )
        )
    )  # fmt: skip
    (decision,) = (await dunning.run(other)).decisions
    assert decision.outcome == "NOTHING_DUNNABLE"


async def test_a_refused_send_is_retried_visible_meanwhile_and_delivered_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    dunning.inbox.refuse = True
    await dunning.run(customer)
    assert await dunning.send() == 1

    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.QUEUED and notice.attempts == 1
    assert "554" in notice.last_error
    assert await dunning.send() == 0  # not before its retry time

    dunning.inbox.refuse = False
    dunning.clock.advance(timedelta(minutes=5))
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 2 and notice.last_error == ""
    assert len(dunning.inbox.envelopes) == 1
    dunning.clock.advance(timedelta(hours=2))
    assert await dunning.send() == 0


async def test_a_failed_notice_is_retried_by_a_person_and_delivered_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    dunning.inbox.refuse = True
    await dunning.run(customer)
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    await expect_error(  # still being retried by the sender
        dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="NOTICE_NOT_FAILED",
    )
    while notice.state == pb.Notice.QUEUED:
        dunning.clock.advance(timedelta(hours=2))
        await dunning.send()
        (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.FAILED and notice.attempts == 8

    token = as_actor("user:other", "collector")
    try:
        await expect_error(
            dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    finally:
        reset_actor(token)
    retried = await dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name))
    assert retried.state == pb.Notice.QUEUED and retried.attempts == 0
    assert retried.last_error.startswith(f"retry asked by {CARL} at ")
    assert "554" in retried.last_error  # the error it failed with, kept in the record
    dunning.inbox.refuse = False
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 1
    assert len(dunning.inbox.envelopes) == 1
    await expect_error(
        dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="NOTICE_NOT_FAILED",
    )


async def test_a_team_lead_sets_and_lifts_a_dunning_block(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)

    async def block(on: bool, etag: str) -> pb.Customer:
        return await dunning.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(name=customer.name, etag=etag, dunning_block=on),
                update_mask="dunning_block",
            )
        )

    await expect_error(block(True, customer.etag), grpc.StatusCode.PERMISSION_DENIED)
    token = as_actor(LENA, "team_lead", team="DACH")
    try:
        blocked = await block(True, customer.etag)
        assert blocked.dunning_block
        run = await dunning.run(customer)
        assert run.notices == 0 and run.decisions[0].outcome == "CUSTOMER_FLAGGED"
        lifted = await block(False, blocked.etag)
        assert not lifted.dunning_block
        assert (await dunning.run(customer, reevaluate=True)).notices == 1
        handed = await dunning.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(name=customer.name, etag=lifted.etag, bankruptcy=True),
                update_mask="bankruptcy",
            )
        )
        assert handed.dunning_block
        await expect_error(  # the legal case lifts it when Legal closes the case
            block(False, handed.etag),
            grpc.StatusCode.FAILED_PRECONDITION,
            reason="LEGAL_CASE_ACTIVE",
        )
    finally:
        reset_actor(token)


async def test_a_statement_lists_the_same_figures_as_csv_and_pdf(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    csv = await dunning.stub.GetStatement(
        pb.GetStatementRequest(customer=customer.name, format="CSV")
    )
    assert csv.content_type == "text/csv"
    rows = csv.content.decode().splitlines()
    assert rows[0].startswith("invoice,due_date,days_past_due,currency,open,in_dispute,promised")
    assert rows[1].split(",")[:7] == ["INV-1", "2026-01-30", "31", "EUR", "1000.00", "300.00",
                                      "500.00"]  # fmt: skip
    assert rows[1].split(",")[-1] == "200.00"
    pdf = await dunning.stub.GetStatement(pb.GetStatementRequest(customer=customer.name))
    assert pdf.content_type == "application/pdf" and pdf.content.startswith(b"%PDF")


async def test_a_statement_as_of_a_past_date_shows_the_amounts_of_that_date(dunning):
    """Payments and holds dated after D, and invoices issued after D, are not on a statement
    as of D; today's statement shows them; promises cover only today's."""
    customer = await dunning.customer()
    invoice = await dunning.disputed_and_promised_invoice(
        customer
    )  # held 300 (today), 500 promised
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(customer=customer.name, external_number="INV-LATE",
                               invoice_date="2026-02-20", due_date="2026-03-20",
                               amount=eur("50.00"))
        )
    )  # fmt: skip
    payment = await dunning.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(customer=customer.name, amount=eur("150.00"),
                               received_date="2026-02-25", reference="BANK-1")
        )
    )  # fmt: skip
    await dunning.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("150.00"))],
        )
    )

    async def rows(as_of: str) -> list[list[str]]:
        got = await dunning.stub.GetStatement(
            pb.GetStatementRequest(customer=customer.name, as_of=as_of, format="CSV")
        )
        return [line.split(",") for line in got.content.decode().splitlines()[1:]]

    # (invoice, days past due, open, in dispute, promised, ..., to collect)
    (past,) = await rows("2026-02-15")  # before the payment and the late invoice
    assert past[:7] == ["INV-1", "2026-01-30", "16", "EUR", "1000.00", "0.00", "0.00"]
    assert past[-1] == "1000.00"
    today = await rows("")
    assert [r[0] for r in today] == ["INV-1", "INV-LATE"]
    assert today[0][4:7] == ["850.00", "300.00", "350.00"]  # the payment counts for the promise
    assert today[0][-1] == "200.00"


async def test_stop_credit_is_a_phone_task_on_the_worklist_a_credit_hold_and_the_team_lead(
    dunning,
):
    customer = await dunning.customer()
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="INV-9",
                invoice_date="2025-11-30",
                due_date="2025-12-31",  # 61 days before 2026-03-02: STOP_CREDIT
                amount=eur("750.00"),
            )
        )
    )
    run = await dunning.run(customer)
    assert run.decisions[0].level == 6
    (notice,) = await dunning.notices(customer)
    assert notice.channel == "PHONE_TASK" and notice.state == pb.Notice.SENT
    assert await dunning.send() == 0  # a phone task is not mailed
    got = await dunning.stub.GetCustomer(pb.GetCustomerRequest(name=customer.name))
    assert got.credit_hold
    (item,) = (await dunning.stub.ListWorklist(pb.ListWorklistRequest())).items
    assert item.next_action == "DUNNING_CALL"
    async with dunning.parts.ctx.db.reading_connection() as conn:
        (payload,) = (
            await conn.execute(select(OutboxEventRow.payload).where(
                OutboxEventRow.method == METHOD))
        ).scalars().all()  # fmt: skip
    raised = escalation_pb2.RaiseEscalationRequest.FromString(payload)
    assert raised.team == escalation_pb2.TEAM_LEAD and raised.subject == customer.name
    assert raised.reason_code == "DUNNING_STOP_CREDIT" and raised.amount_at_stake == eur("750.00")

    dunning.clock.advance(timedelta(minutes=10))
    await dunning.stub.LogInteraction(
        pb.LogInteractionRequest(
            parent=customer.name,
            interaction=pb.Interaction(
                channel=pb.Interaction.PHONE, outcome_code="LEFT_MESSAGE", contact_index=1
            ),
        )
    )
    explained = await dunning.stub.ExplainWorklistAbsence(
        pb.ExplainWorklistAbsenceRequest(customer=customer.name)
    )
    assert explained.item.next_action != "DUNNING_CALL"  # the task is done by the call
