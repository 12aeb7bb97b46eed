"""Invoices, payments, credits, allocations and dispute holds through a real gRPC server."""

from __future__ import annotations

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import expect_error


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


async def customer_and_invoice(stub, amount="1000.00", number="INV-1", due="2026-02-01"):
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(
                display_name="Acme", external_ref=f"C-{number}", currency_code="EUR"
            )
        )
    )
    invoice = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number=number,
                invoice_date="2026-01-02",
                due_date=due,
                amount=eur(amount),
                lines=[
                    pb.InvoiceLine(description="Widgets", amount=eur("800.00")),
                    pb.InvoiceLine(description="Freight", kind="FREIGHT", amount=eur("200.00")),
                ],
            )
        )
    )
    return customer, invoice


async def test_invoice_keeps_its_lines_and_derives_open_amount(accounts):
    _, invoice = await customer_and_invoice(accounts.stub)
    assert invoice.open_amount.amount == "1000.00"
    assert invoice.collectible_amount.amount == "1000.00"
    assert invoice.status == pb.OPEN
    assert [line.line_number for line in invoice.lines] == [1, 2]
    assert invoice.external_number == "INV-1"


async def test_invoice_lines_must_add_up_and_nothing_is_written(accounts):
    customer = await accounts.stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="A"))
    )
    bad = pb.Invoice(
        customer=customer.name,
        external_number="0042",
        invoice_date="2026-01-02",
        due_date="2026-02-01",
        amount=eur("10.00"),
        lines=[pb.InvoiceLine(amount=eur("9.99"))],
    )
    await expect_error(
        accounts.stub.CreateInvoice(pb.CreateInvoiceRequest(invoice=bad)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="invoice.amount",
    )
    malformed = pb.Invoice(
        customer="customers/nope",
        external_number="",
        invoice_date="2026-13-40",
        due_date="tomorrow",
        amount=Money(currency_code="EUR", amount="1e3"),
    )
    await expect_error(
        accounts.stub.CreateInvoice(pb.CreateInvoiceRequest(invoice=malformed)),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=[
            "invoice.customer",
            "invoice.external_number",
            "invoice.invoice_date",
            "invoice.due_date",
            "invoice.amount.amount",
        ],
    )
    listed = await accounts.stub.ListInvoices(pb.ListInvoicesRequest())
    assert list(listed.invoices) == []


async def test_payment_allocation_reduces_open_and_cannot_overdraw(accounts):
    customer, invoice = await customer_and_invoice(accounts.stub)
    payment = await accounts.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name,
                amount=eur("600.00"),
                received_date="2026-02-10",
                reference="BANK-7",
            )
        )
    )
    result = await accounts.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("400.00"))],
            request_id="alloc-1",
        )
    )
    assert result.invoices[0].open_amount.amount == "600.00"
    assert result.source_unallocated_amount.amount == "200.00"
    # the same request again changes nothing
    again = await accounts.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("400.00"))],
            request_id="alloc-1",
        )
    )
    assert again.invoices[0].open_amount.amount == "600.00"
    await expect_error(
        accounts.stub.AllocateFunds(
            pb.AllocateFundsRequest(
                source=payment.name,
                allocations=[pb.Allocation(invoice=invoice.name, amount=eur("300.00"))],
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="ALLOCATION_EXCEEDS_SOURCE",
    )
    balance = await accounts.stub.GetCustomerBalance(
        pb.GetCustomerBalanceRequest(customer=customer.name)
    )
    (eur_balance,) = balance.balances
    assert (eur_balance.open_receivables.amount, eur_balance.unallocated_cash.amount) == (
        "600.00",
        "200.00",
    )
    assert eur_balance.overdue.amount == "600.00"  # due 2026-02-01, today is 2026-03-02


async def test_hold_is_idempotent_bounded_by_open_and_excluded_from_collectible(accounts):
    _, invoice = await customer_and_invoice(accounts.stub)
    place = pb.PlaceHoldRequest(
        invoice=invoice.name, dispute="disputes/1", amount=eur("250.00"), request_id="event-1"
    )
    await accounts.stub.PlaceHold(place)
    await accounts.stub.PlaceHold(place)  # redelivered event: applied once
    held = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert (held.held_amount.amount, held.collectible_amount.amount) == ("250.00", "750.00")
    assert [h.dispute for h in held.holds] == ["disputes/1"]
    await expect_error(
        accounts.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name,
                dispute="disputes/2",
                amount=eur("750.01"),
                request_id="event-2",
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="HOLD_EXCEEDS_OPEN",
    )
    await expect_error(
        accounts.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name,
                dispute="disputes/2",
                amount=Money(currency_code="USD", amount="1.00"),
                request_id="event-3",
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="amount.currency_code",
    )
    await accounts.stub.ReleaseHold(
        pb.ReleaseHoldRequest(
            invoice=invoice.name, dispute="disputes/1", amount=eur("50.00"), request_id="event-4"
        )
    )
    after = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert after.held_amount.amount == "200.00"


async def test_dispute_credit_posts_to_the_ledger_and_shrinks_the_hold(accounts):
    _, invoice = await customer_and_invoice(accounts.stub)
    await accounts.stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/9", amount=eur("300.00"), request_id="e1"
        )
    )
    adjustment = await accounts.stub.PostDisputeAdjustment(
        pb.PostDisputeAdjustmentRequest(
            invoice=invoice.name,
            dispute="disputes/9",
            kind=pb.CREDIT,
            amount=eur("120.00"),
            reason_code="SALES_PRICING_ERROR",
            request_id="e2",
        )
    )
    assert adjustment.credit_note.startswith("creditNotes/")
    updated = adjustment.updated_invoice
    assert (updated.open_amount.amount, updated.held_amount.amount) == ("880.00", "180.00")
    await expect_error(
        accounts.stub.PostDisputeAdjustment(
            pb.PostDisputeAdjustmentRequest(
                invoice=invoice.name,
                dispute="disputes/9",
                kind=pb.WRITE_OFF,
                amount=eur("180.01"),
                request_id="e3",
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="EXCEEDS_HOLD",
    )
    await accounts.stub.PostDisputeAdjustment(
        pb.PostDisputeAdjustmentRequest(
            invoice=invoice.name,
            dispute="disputes/9",
            kind=pb.WRITE_OFF,
            amount=eur("180.00"),
            request_id="e4",
        )
    )
    final = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert (final.open_amount.amount, final.held_amount.amount) == ("700.00", "0.00")
    assert list(final.holds) == []


async def test_aging_shows_held_amounts_separately(accounts):
    _, invoice = await customer_and_invoice(accounts.stub, due="2026-01-15")
    await accounts.stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/5", amount=eur("100.00"), request_id="h"
        )
    )
    report = await accounts.stub.GetAgingReport(pb.GetAgingReportRequest(as_of="2026-03-02"))
    (total,) = report.totals
    bucket = {b.bucket: b for b in total.buckets}["D31_60"]  # 46 days past due
    assert (bucket.amount.amount, bucket.held.amount, bucket.invoice_count) == (
        "900.00",
        "100.00",
        1,
    )
    assert total.total_open.amount == "1000.00"
    before = await accounts.stub.GetAgingReport(pb.GetAgingReportRequest(as_of="2026-01-01"))
    assert list(before.totals) == []  # not yet invoiced
    await expect_error(
        accounts.stub.GetAgingReport(pb.GetAgingReportRequest(buckets="30,20")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="buckets",
    )


async def test_a_dispute_growing_its_hold_moves_the_same_hold(accounts):
    _, invoice = await customer_and_invoice(accounts.stub)

    def place(amount: str, event: str):
        return accounts.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name, dispute="disputes/7", amount=eur(amount), request_id=event
            )
        )

    first = await place("100.00", "event-1")
    accounts.clock.advance(60)
    grown = await place("50.00", "event-2")
    assert (grown.name, grown.create_time) == (first.name, first.create_time)
    assert (grown.amount.amount, grown.update_time.seconds) == (
        "150.00",
        first.update_time.seconds + 60,
    )
    assert await place("50.00", "event-2") == grown  # redelivered: answered from the hold as is
    read = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert (list(read.holds), read.held_amount.amount) == ([grown], "150.00")
    await expect_error(
        accounts.stub.ReleaseHold(
            pb.ReleaseHoldRequest(invoice=invoice.name, dispute="disputes/8", request_id="r")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="NO_HOLD",
    )
    await expect_error(
        accounts.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice="invoices/" + "0" * 32, dispute="d", amount=eur("1.00"), request_id="x"
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_payments_and_credit_notes_are_listed_per_customer_oldest_first(accounts):
    customer, _ = await customer_and_invoice(accounts.stub)
    other, _ = await customer_and_invoice(accounts.stub, number="INV-2")
    payments = []
    for reference, owner in (("BANK-1", customer), ("BANK-X", other), ("BANK-2", customer)):
        accounts.clock.advance(60)
        made = await accounts.stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(
                    customer=owner.name,
                    amount=eur("100.00"),
                    received_date="2026-02-10",
                    reference=reference,
                )
            )
        )
        if owner is customer:
            payments.append(made)
    note = await accounts.stub.CreateCreditNote(
        pb.CreateCreditNoteRequest(
            credit_note=pb.CreditNote(
                customer=customer.name,
                amount=eur("50.00"),
                issue_date="2026-02-11",
                external_number="CN-1",
                reason="damaged",
            )
        )
    )
    listed = await accounts.stub.ListPayments(pb.ListPaymentsRequest(customer=customer.name))
    assert list(listed.payments) == payments
    notes = await accounts.stub.ListCreditNotes(pb.ListCreditNotesRequest(customer=customer.name))
    assert list(notes.credit_notes) == [note]
    await expect_error(
        accounts.stub.ListPayments(pb.ListPaymentsRequest(customer="customers/" + "0" * 32)),
        grpc.StatusCode.NOT_FOUND,
    )
