"""Hostile and malformed values in every accounts request field: always a clear 4xx-class status,
never INTERNAL, and nothing written by a refused request."""

from __future__ import annotations

import random

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money

NASTY = [
    "",
    " ",
    "\x00",
    "'; DROP TABLE customers; --",
    "ü" * 300,
    "x" * 5000,
    "-1",
    "0",
    "1e308",
    "NaN",
    "Infinity",
    "-0.00",
    "99999999999999999999999",
    "1,000.00",
    "1.999",
    "../../etc/passwd",
    "customers/",
    "invoices/" + "f" * 32,
    "customers/" + "0" * 31 + "g",
    "2026-02-30",
    "9999-99-99",
    "\ud7ff",
    "🙂",
    "EUR",
    "eur",
    "XXX",
    "   12.5 ",
    "0x10",
    "+5",
]
REFUSED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
}


def pick(rng: random.Random) -> str:
    return rng.choice(NASTY)


def money(rng) -> Money:
    return Money(currency_code=pick(rng), amount=pick(rng))


def requests(rng: random.Random):
    yield (
        "CreateCustomer",
        pb.CreateCustomerRequest(
            customer=pb.Customer(
                display_name=pick(rng),
                external_ref=pick(rng),
                country_code=pick(rng),
                time_zone=pick(rng),
                currency_code=pick(rng),
                credit_limit=money(rng),
                contacts=[pb.Contact(email=pick(rng))],
            )
        ),
    )
    yield (
        "CreateInvoice",
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=pick(rng),
                external_number=pick(rng),
                invoice_date=pick(rng),
                due_date=pick(rng),
                amount=money(rng),
                lines=[pb.InvoiceLine(amount=money(rng), quantity=pick(rng))],
            )
        ),
    )
    yield (
        "CreatePayment",
        pb.CreatePaymentRequest(
            payment=pb.Payment(customer=pick(rng), amount=money(rng), received_date=pick(rng))
        ),
    )
    yield (
        "AllocateFunds",
        pb.AllocateFundsRequest(
            source=pick(rng), allocations=[pb.Allocation(invoice=pick(rng), amount=money(rng))]
        ),
    )
    yield (
        "PlaceHold",
        pb.PlaceHoldRequest(
            invoice=pick(rng), dispute=pick(rng), amount=money(rng), request_id=pick(rng)
        ),
    )
    yield (
        "GetAgingReport",
        pb.GetAgingReportRequest(as_of=pick(rng), customer=pick(rng), buckets=pick(rng)),
    )
    yield (
        "ListInvoices",
        pb.ListInvoicesRequest(
            filter=pick(rng) + "=" + pick(rng),
            order_by=pick(rng),
            page_token=pick(rng),
            page_size=rng.randint(-5, 5000),
        ),
    )
    yield "GetCustomer", pb.GetCustomerRequest(name=pick(rng))


async def test_nothing_hostile_crashes_or_writes(accounts):
    rng = random.Random(20261122)
    seen_codes = set()
    for _ in range(40):
        for method, request in requests(rng):
            try:
                await getattr(accounts.stub, method)(request)
            except grpc.aio.AioRpcError as error:
                assert error.code() in REFUSED, (method, request, error.code(), error.details())
                assert "Traceback" not in error.details()
                seen_codes.add(error.code())
    assert grpc.StatusCode.INVALID_ARGUMENT in seen_codes
    customers = await accounts.stub.ListCustomers(pb.ListCustomersRequest())
    invoices = await accounts.stub.ListInvoices(pb.ListInvoicesRequest())
    # only fully valid customers may exist; no invoice can (no valid customer name was ever sent)
    assert all(c.display_name.strip() for c in customers.customers)
    assert list(invoices.invoices) == []
