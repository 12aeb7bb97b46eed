"""The collector's desk shared by the collections RPC tests: a real gRPC server on SQLite or
PostgreSQL, with the helpers that log interactions and pay invoices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.actor import reset_actor
from common.clock import ManualClock
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.common.v1.common_pb2 import Money
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, running

State = pb.PromiseToPay.State


CARL, LENA = "user:carl", "user:lena"


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


@pytest.fixture
async def desk(backend, database_factory):
    """The accounts service (workers off: the tests run the evaluator's passes themselves), with
    the caller a collector, carl, whose customer is assigned to him."""
    url = database_factory.new_url(backend, "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday
    settings = accounts_settings(url)
    settings = type(settings)(**{**vars(settings), "workers_enabled": False})
    parts = assemble(settings, clock=clock)
    token = as_actor(CARL, "collector")
    try:
        async with running(parts.process) as address, channel(address) as ch:
            yield Desk(accounts_pb2_grpc.AccountsServiceStub(ch), clock, parts)
    finally:
        reset_actor(token)


class Desk:
    def __init__(self, stub, clock, parts):
        self.stub, self.clock, self.parts = stub, clock, parts

    async def customer(self, ref="C-1", time_zone="Europe/Berlin", country="DE", assign=True):
        customer = await self.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(
                    display_name="Acme",
                    external_ref=ref,
                    currency_code="EUR",
                    country_code=country,
                    time_zone=time_zone,
                    contacts=[pb.Contact(name="Ann Payable", email="ann@acme.example")],
                )
            )
        )
        if assign:
            token = as_actor(LENA, "team_lead", team="DACH")
            try:
                await self.stub.BulkReassignCustomers(
                    pb.BulkReassignCustomersRequest(customers=[customer.name], collector=CARL)
                )
            finally:
                reset_actor(token)
        return customer

    async def invoice(self, customer, number="INV-1", amount="1000.00", due="2026-01-15"):
        return await self.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name,
                    external_number=number,
                    invoice_date="2025-11-01",
                    due_date=due,
                    amount=eur(amount),
                )
            )
        )

    async def pay(self, customer, invoice, amount):
        payment = await self.stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(
                    customer=customer.name, amount=eur(amount), received_date="2026-03-02"
                )
            )
        )
        await self.stub.AllocateFunds(
            pb.AllocateFundsRequest(
                source=payment.name,
                allocations=[pb.Allocation(invoice=invoice.name, amount=eur(amount))],
            )
        )

    async def promise(self, customer, invoice, amount="400.00", on="2026-03-06"):
        made = await self.stub.CreatePromise(
            pb.CreatePromiseRequest(
                parent=customer.name,
                promise_plan=pb.PromisePlan(
                    promise=pb.PromiseToPay(
                        amount=eur(amount), promised_date=on, invoices=[invoice.name]
                    )
                ),
            )
        )
        return made.promises[0]

    async def evaluate(self):
        return await self.parts.evaluator.evaluate_once()

    async def state(self, promise):
        return (await self.stub.GetPromise(pb.GetPromiseRequest(name=promise.name))).state


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def _log(customer, code, **kw) -> pb.LogInteractionRequest:
    plan = kw.pop("promise_plan", None)
    request = pb.LogInteractionRequest(
        parent=customer.name,
        interaction=pb.Interaction(
            channel=pb.Interaction.PHONE, outcome_code=code, contact_index=1, **kw
        ),
    )
    if plan is not None:
        request.promise_plan.CopyFrom(plan)
    return request


async def _paid(desk, customer, invoice, amount):
    payment = await desk.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name, amount=eur(amount), received_date="2026-03-02"
            )
        )
    )
    await desk.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur(amount))],
        )
    )
    return payment


def _reversal(payment, invoice, request_id):
    return pb.ReverseAllocationRequest(
        source=payment.name,
        invoice=invoice.name,
        reason_code="PAYMENT_RETURNED",
        request_id=request_id,
    )
