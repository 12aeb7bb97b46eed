"""Aging as of past dates: payments, holds and their release dated after the report's date must
not count, an invoice closed after it is still open on it, and the per-customer pages agree with
the totals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


async def _customer(stub, ref: str) -> str:
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(display_name=ref, external_ref=ref, currency_code="EUR")
        )
    )
    return customer.name


async def _invoice(stub, customer: str, number: str, amount: str) -> str:
    invoice = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer,
                external_number=number,
                invoice_date="2026-01-02",
                due_date="2026-02-01",
                amount=eur(amount),
            )
        )
    )
    return invoice.name


async def _pay(stub, customer: str, invoice: str, amount: str, received: str) -> None:
    payment = await stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(customer=customer, amount=eur(amount), received_date=received)
        )
    )
    await stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name, allocations=[pb.Allocation(invoice=invoice, amount=eur(amount))]
        )
    )


def _open(row) -> tuple[str, str, int]:
    """(open, held, invoices) of an aging row, over every bucket."""
    return (row.total_open.amount, row.total_held.amount, sum(b.invoice_count for b in row.buckets))


async def test_aging_as_of_past_dates_rolls_the_ledger_back(accounts):
    stub = accounts.stub
    acme, beta = await _customer(stub, "ACME"), await _customer(stub, "BETA")
    partly = await _invoice(stub, acme, "A-1", "1000.00")
    settled = await _invoice(stub, acme, "A-2", "500.00")
    await _invoice(stub, beta, "B-1", "70.00")
    await _pay(stub, acme, partly, "400.00", "2026-02-10")
    await _pay(stub, acme, settled, "500.00", "2026-02-20")  # closes it on 2026-02-20
    hold = pb.PlaceHoldRequest(
        invoice=partly, dispute="disputes/1", amount=eur("300.00"), request_id="e1"
    )
    await stub.PlaceHold(hold)  # on 2026-03-02, the clock's today
    accounts.clock.advance(timedelta(days=8))
    await stub.ReleaseHold(
        pb.ReleaseHoldRequest(
            invoice=partly, dispute="disputes/1", amount=eur("100.00"), request_id="e2"
        )
    )

    expected = {  # as of → (open, held, invoices) for ACME; BETA is 70.00 open throughout
        "2026-01-01": None,  # nothing invoiced yet
        "2026-02-05": ("1500.00", "0.00", 2),
        "2026-02-10": ("1100.00", "0.00", 2),
        "2026-02-20": ("600.00", "0.00", 1),
        "2026-03-02": ("600.00", "300.00", 1),
        "2026-03-10": ("600.00", "200.00", 1),
    }
    for as_of, acme_open in expected.items():
        request = pb.GetAgingReportRequest(as_of=as_of, by_customer=True, page_size=10)
        report = await stub.GetAgingReport(request)
        customers = {row.customer: _open(row) for row in report.customers}
        if acme_open is None:
            assert (list(report.totals), customers) == ([], {}), as_of
            continue
        assert customers == {acme: acme_open, beta: ("70.00", "0.00", 1)}, as_of
        (total,) = report.totals
        open_, held, count = acme_open
        assert _open(total) == (str(Decimal(open_) + 70), held, count + 1), as_of
        alone = pb.GetAgingReportRequest(as_of=as_of, customer=acme)
        (one,) = (await stub.GetAgingReport(alone)).totals
        assert _open(one) == acme_open, as_of
