"""What the dunning RPC tests share: a real SMTP server's inbox, the accounts service with its
dunning ladder, and a desk of helpers that build customers, invoices and promises."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime

import pytest
from aiosmtpd.smtp import SMTP

from common.actor import reset_actor
from common.clock import ManualClock
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.common.v1.common_pb2 import Money
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, running

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

    async def customer(self, external_ref: str = "C-1"):
        customer = await self.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(
                    display_name="Acme GmbH",
                    external_ref=external_ref,
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
