"""An invoice's hold movements and ledger postings, one by one, through a real gRPC server."""

from __future__ import annotations

import grpc

from common.actor import reset_actor
from common.ids import new_id
from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import as_actor, expect_error


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


async def _invoice(stub) -> tuple[pb.Customer, pb.Invoice]:
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="Acme", currency_code="EUR"))
    )
    invoice = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="INV-1",
                invoice_date="2026-01-02",
                due_date="2026-02-01",
                amount=eur("1000.00"),
            )
        )
    )
    return customer, invoice


async def _every_hold_movement(stub, invoice: str, page_size: int) -> list[pb.HoldMovement]:
    found, token = [], ""
    while True:
        page = await stub.ListHoldMovements(
            pb.ListHoldMovementsRequest(parent=invoice, page_size=page_size, page_token=token)
        )
        found += page.hold_movements
        if not (token := page.next_page_token):
            return found


async def test_hold_movements_say_what_moved_each_hold_newest_first(accounts):
    stub, clock = accounts.stub, accounts.clock
    _, invoice = await _invoice(stub)

    async def place(dispute: str, amount: str, event: str):
        await stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name, dispute=dispute, amount=eur(amount), request_id=event
            )
        )
        clock.advance(60)

    async def adjust(kind, amount: str, event: str):
        made = await stub.PostDisputeAdjustment(
            pb.PostDisputeAdjustmentRequest(
                invoice=invoice.name,
                dispute="disputes/1",
                kind=kind,
                amount=eur(amount),
                reason_code="PRICING",
                request_id=event,
            )
        )
        clock.advance(60)
        return made

    await place("disputes/1", "300.00", "e1")
    await place("disputes/1", "100.00", "e2")
    await place("disputes/1", "100.00", "e2")  # a redelivered event moves nothing
    await place("disputes/2", "50.00", "e3")
    credit = await adjust(pb.CREDIT, "120.00", "e4")
    await adjust(pb.WRITE_OFF, "30.00", "e5")
    await stub.ReleaseHold(
        pb.ReleaseHoldRequest(invoice=invoice.name, dispute="disputes/2", request_id="e6")
    )

    moves = await _every_hold_movement(stub, invoice.name, page_size=2)
    assert [(m.kind, m.dispute, m.amount.amount) for m in moves] == [
        ("RELEASED", "disputes/2", "-50.00"),
        ("WRITTEN_OFF", "disputes/1", "-30.00"),
        ("CREDITED", "disputes/1", "-120.00"),
        ("PLACED", "disputes/2", "50.00"),
        ("INCREASED", "disputes/1", "100.00"),
        ("PLACED", "disputes/1", "300.00"),
    ]
    times = [m.occur_time.ToDatetime() for m in moves]
    assert times == sorted(times, reverse=True)
    assert len({m.name for m in moves}) == 6
    assert all(m.name.startswith(f"{invoice.name}/holdMovements/") for m in moves)
    assert len({m.hold for m in moves if m.dispute == "disputes/1"}) == 1
    assert [bool(m.posting) for m in moves] == [False, True, True, False, False, False]

    postings = await stub.ListLedgerPostings(pb.ListLedgerPostingsRequest(parent=invoice.name))
    by_name = {p.name: p for p in postings.postings}
    written_off, credited = by_name[moves[1].posting], by_name[moves[2].posting]
    assert (credited.kind, credited.source) == ("CREDIT_NOTE", credit.credit_note)
    assert (written_off.kind, written_off.source, written_off.amount.amount) == (
        "WRITE_OFF",
        "disputes/1",
        "30.00",
    )
    held = await stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert held.held_amount.amount == "250.00"  # what the movements add up to


async def test_ledger_postings_list_allocations_and_reversals_with_their_keys(accounts):
    stub, clock = accounts.stub, accounts.clock
    customer, invoice = await _invoice(stub)
    payment = await stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name, amount=eur("600.00"), received_date="2026-02-10"
            )
        )
    )
    await stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("400.00"))],
            request_id="alloc-1",
        )
    )
    clock.advance(60)
    await stub.ReverseAllocation(
        pb.ReverseAllocationRequest(
            source=payment.name, invoice=invoice.name, reason_code="PAYMENT_RETURNED"
        )
    )

    first = await stub.ListLedgerPostings(
        pb.ListLedgerPostingsRequest(parent=invoice.name, page_size=1)
    )
    (reversal,) = first.postings
    rest = await stub.ListLedgerPostings(
        pb.ListLedgerPostingsRequest(
            parent=invoice.name, page_size=1, page_token=first.next_page_token
        )
    )
    (allocation,) = rest.postings
    assert (allocation.kind, allocation.source, allocation.amount.amount) == (
        "PAYMENT",
        payment.name,
        "400.00",
    )
    assert (allocation.applied_date, allocation.entry_key) == ("2026-02-10", "")
    assert (reversal.kind, reversal.source, reversal.amount.amount) == (
        "REVERSAL",
        allocation.name,
        "-400.00",
    )
    assert reversal.reason_code == "PAYMENT_RETURNED"
    assert reversal.entry_key == f"reversal:{allocation.name.rpartition('/')[2]}"
    assert reversal.create_time.ToDatetime() > allocation.create_time.ToDatetime()
    last = await stub.ListLedgerPostings(
        pb.ListLedgerPostingsRequest(
            parent=invoice.name, page_size=1, page_token=rest.next_page_token
        )
    )
    assert (list(last.postings), last.next_page_token) == ([], "")


async def test_an_invoice_without_movements_lists_nothing_and_a_missing_one_is_not_found(accounts):
    stub = accounts.stub
    _, invoice = await _invoice(stub)
    assert not (
        await stub.ListHoldMovements(pb.ListHoldMovementsRequest(parent=invoice.name))
    ).hold_movements
    assert not (
        await stub.ListLedgerPostings(pb.ListLedgerPostingsRequest(parent=invoice.name))
    ).postings
    missing = f"invoices/{new_id()}"
    for call in (
        stub.ListHoldMovements(pb.ListHoldMovementsRequest(parent=missing)),
        stub.ListLedgerPostings(pb.ListLedgerPostingsRequest(parent=missing)),
    ):
        await expect_error(call, grpc.StatusCode.NOT_FOUND)
    await expect_error(
        stub.ListHoldMovements(pb.ListHoldMovementsRequest(parent="customers/x")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="parent",
    )


async def test_legal_reads_them_only_of_accounts_handed_over_to_it(accounts):
    stub = accounts.stub
    _, invoice = await _invoice(stub)
    await stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/1", amount=eur("10.00"), request_id="e1"
        )
    )
    token = as_actor("user:sam", "sre")
    try:
        listed = await stub.ListHoldMovements(pb.ListHoldMovementsRequest(parent=invoice.name))
        assert [m.kind for m in listed.hold_movements] == ["PLACED"]
    finally:
        reset_actor(token)
    token = as_actor("user:lea", "legal", team="LEGAL")  # no legal case: as if it did not exist
    try:
        await expect_error(
            stub.ListHoldMovements(pb.ListHoldMovementsRequest(parent=invoice.name)),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_error(
            stub.ListLedgerPostings(pb.ListLedgerPostingsRequest(parent=invoice.name)),
            grpc.StatusCode.NOT_FOUND,
        )
    finally:
        reset_actor(token)
