"""Every write that changes a worklist fact changes the worklist in its own transaction (the facts
summary is recomputed there), through a real gRPC server on SQLite and PostgreSQL: invoices
created and imported, payments and credit notes applied and reversed, holds placed and released,
dispute adjustments, promises taken, withdrawn, cancelled and judged, interactions, write-offs
posted and reversed, and the customer's currency. (A dunning phone task:
test_dunning_rpc.py::test_stop_credit_is_a_phone_task_on_the_worklist_a_credit_hold_and_the_team_lead.)
Each test also checks the summary against a recomputation and the facts from their sources."""

from __future__ import annotations

from datetime import UTC, timedelta

from common.actor import reset_actor
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.collections_support import LENA, _log, _paid, _reversal, eur
from tests.accounts.api.facts_support import (
    assert_facts_agree,
    assert_summary_is_a_recomputation,
)
from tests.support.rpc import as_actor


async def _item(desk, customer) -> pb.WorklistItem | None:
    listed = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    return next((i for i in listed.items if i.customer == customer.name), None)


async def _figures(desk, customer) -> tuple[str, str, str, str]:
    """(overdue, in dispute, promised, to collect) of the customer's item."""
    item = await _item(desk, customer)
    assert item is not None
    return (
        item.overdue_amount.amount,
        item.amount_in_dispute.amount,
        item.promised_amount.amount,
        item.amount_to_collect.amount,
    )


async def _consistent(desk) -> None:
    await assert_summary_is_a_recomputation(desk)
    await assert_facts_agree(desk, days=(0, 30))


async def test_an_invoice_created_puts_the_customer_on_the_list(desk):
    customer = await desk.customer()
    assert await _item(desk, customer) is None
    await desk.invoice(customer, "INV-1", amount="1000.00", due="2026-01-15")
    await desk.invoice(customer, "INV-2", amount="500.00", due="2026-03-20")  # not due yet
    assert await _figures(desk, customer) == ("1000.00", "0.00", "0.00", "1500.00")
    await _consistent(desk)


async def test_an_import_adds_its_invoices_to_an_assigned_customer(desk):
    customer = await desk.customer("0379-NEVHP")
    csv = (
        b"countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
        b"Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
        b"391,0379-NEVHP,4/6/2013,0000611365,1/2/2026,2/1/2026,55.94,No,,Paper,0,0\n"
        b"391,0379-NEVHP,4/6/2013,0000611366,1/2/2026,2/1/2026,20.00,No,2/3/2026,Paper,0,0\n"
    )

    async def parts():
        yield pb.ImportOpenItemsRequest(options=pb.ImportOptions(currency_code="EUR"))
        yield pb.ImportOpenItemsRequest(chunk=csv)

    report = await desk.stub.ImportOpenItems(parts(), timeout=60)
    assert (report.imported, report.customers_created) == (2, 0)
    assert await _figures(desk, customer) == ("55.94", "0.00", "0.00", "55.94")
    await _consistent(desk)


async def test_payments_and_credit_notes_applied_and_reversed(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer, amount="1000.00")
    payment = await _paid(desk, customer, invoice, "300.00")
    assert (await _figures(desk, customer))[0] == "700.00"
    note = await desk.stub.CreateCreditNote(
        pb.CreateCreditNoteRequest(
            credit_note=pb.CreditNote(
                customer=customer.name, amount=eur("100.00"), issue_date="2026-03-02"
            )
        )
    )
    await desk.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=note.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("100.00"))],
        )
    )
    assert (await _figures(desk, customer))[0] == "600.00"
    await desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-1"))
    assert (await _figures(desk, customer))[0] == "900.00"
    await _consistent(desk)


async def test_holds_placed_released_and_credited(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer, amount="1000.00")
    await desk.stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/1", amount=eur("400.00"), request_id="h-1"
        )
    )
    item = await _item(desk, customer)
    assert (item.amount_in_dispute.amount, item.open_disputes) == ("400.00", 1)
    assert item.overdue_amount.amount == "600.00"
    await desk.stub.PostDisputeAdjustment(
        pb.PostDisputeAdjustmentRequest(
            invoice=invoice.name, dispute="disputes/1", kind=pb.CREDIT, amount=eur("100.00"),
            reason_code="PRICING", request_id="adj-1",
        )
    )  # fmt: skip
    assert await _figures(desk, customer) == ("600.00", "300.00", "0.00", "600.00")
    await desk.stub.ReleaseHold(
        pb.ReleaseHoldRequest(invoice=invoice.name, dispute="disputes/1", request_id="r-1")
    )
    item = await _item(desk, customer)
    assert (item.overdue_amount.amount, item.open_disputes) == ("900.00", 0)
    await _consistent(desk)


async def test_promises_taken_withdrawn_cancelled_and_judged(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer, amount="1000.00")
    first = await desk.promise(customer, invoice, amount="400.00", on="2026-03-02")
    item = await _item(desk, customer)
    assert (item.promised_amount.amount, item.next_action) == ("400.00", "CHECK_PROMISE")
    await desk.stub.WithdrawPromise(pb.WithdrawPromiseRequest(name=first.name, etag=first.etag))
    assert (await _figures(desk, customer))[2:] == ("0.00", "1000.00")
    second = await desk.promise(customer, invoice, amount="300.00")
    assert (await _figures(desk, customer))[2:] == ("300.00", "700.00")
    await desk.stub.CancelPromise(pb.CancelPromiseRequest(name=second.name, etag=second.etag))
    assert (await _figures(desk, customer))[2] == "0.00"
    third = await desk.promise(customer, invoice, amount="200.00")
    desk.clock.set(third.deadline_time.ToDatetime(tzinfo=UTC))
    assert (await desk.evaluate()).judged == {"BROKEN": 1}
    item = await _item(desk, customer)
    assert (item.broken_promises, item.promised_amount.amount) == (1, "0.00")
    assert item.next_action == "FOLLOW_UP_BROKEN_PROMISE"
    await _consistent(desk)


async def test_an_interaction_is_the_last_contact_and_its_call_back(desk):
    customer = await desk.customer()
    await desk.invoice(customer)
    await desk.stub.LogInteraction(_log(customer, "NO_ANSWER"))
    assert await _item(desk, customer) is None  # done for today
    desk.clock.advance(timedelta(days=1))
    item = await _item(desk, customer)
    assert item.last_contact_time.ToDatetime(tzinfo=UTC) == desk.clock.now() - timedelta(days=1)
    await _consistent(desk)


async def test_a_write_off_posted_and_reversed(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer, amount="1000.00")
    made = await desk.stub.CreateWriteOff(
        pb.CreateWriteOffRequest(
            write_off=pb.WriteOff(
                customer=customer.name,
                currency_code="EUR",
                lines=[pb.WriteOffLine(invoice=invoice.name, amount=eur("250.00"))],
                reason_code="UNCOLLECTIBLE",
                evidence=["tickets/1"],
            )
        )
    )
    pending = await desk.stub.SubmitWriteOff(
        pb.SubmitWriteOffRequest(name=made.name, etag=made.etag)
    )
    token = as_actor(LENA, "team_lead", team="DACH")
    try:
        approved = await desk.stub.ApproveWriteOff(
            pb.ApproveWriteOffRequest(name=pending.name, etag=pending.etag)
        )
        posted = await desk.stub.PostWriteOff(
            pb.PostWriteOffRequest(name=approved.name, etag=approved.etag)
        )
        assert (await _figures(desk, customer))[0] == "750.00"
        await desk.stub.ReverseWriteOff(
            pb.ReverseWriteOffRequest(name=posted.name, etag=posted.etag, note="in error")
        )
        assert (await _figures(desk, customer))[0] == "1000.00"
    finally:
        reset_actor(token)
    await _consistent(desk)


async def test_the_customers_currency_decides_which_invoices_count(desk):
    customer = await desk.customer()
    await desk.invoice(customer, amount="1000.00")

    async def switch(currency: str) -> None:
        got = await desk.stub.GetCustomer(pb.GetCustomerRequest(name=customer.name))
        got.currency_code = currency
        await desk.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(customer=got, update_mask="currency_code")
        )

    await switch("USD")
    assert await _item(desk, customer) is None  # nothing in USD to collect
    await _consistent(desk)
    await switch("EUR")
    assert (await _figures(desk, customer))[0] == "1000.00"
