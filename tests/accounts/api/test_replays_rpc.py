"""A create or command answered from the idempotency store (its request id seen before) says so
with the trailer `settle-replayed: true`; the first answer and calls without a request id do not."""

from __future__ import annotations

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money

REPLAYED = ("settle-replayed", "true")


async def _answer(call):
    """(the reply, whether it was marked replayed)."""
    reply = await call
    return reply, REPLAYED in tuple(await call.trailing_metadata())


async def test_creates_and_commands_sent_again_are_marked_replayed(accounts):
    stub = accounts.stub
    new_customer = pb.CreateCustomerRequest(
        customer=pb.Customer(display_name="Acme", currency_code="EUR"), request_id="cust-1"
    )
    customer, replayed = await _answer(stub.CreateCustomer(new_customer))
    assert not replayed
    again, replayed = await _answer(stub.CreateCustomer(new_customer))
    assert replayed and again.name == customer.name

    new_invoice = pb.CreateInvoiceRequest(
        invoice=pb.Invoice(
            customer=customer.name,
            external_number="INV-1",
            invoice_date="2026-01-02",
            due_date="2026-02-01",
            amount=Money(currency_code="EUR", amount="100.00"),
        ),
        request_id="inv-1",
    )
    invoice, replayed = await _answer(stub.CreateInvoice(new_invoice))
    assert not replayed
    assert (await _answer(stub.CreateInvoice(new_invoice)))[1]

    hold = pb.PlaceHoldRequest(
        invoice=invoice.name,
        dispute="disputes/1",
        amount=Money(currency_code="EUR", amount="10.00"),
        request_id="event-1",
    )
    assert [(await _answer(stub.PlaceHold(hold)))[1] for _ in range(2)] == [False, True]

    unkeyed = pb.CreateCustomerRequest(customer=pb.Customer(display_name="Acme"))
    assert [(await _answer(stub.CreateCustomer(unkeyed)))[1] for _ in range(2)] == [False, False]


async def test_a_hold_placed_then_grown_answers_each_event_again_with_that_hold(accounts):
    """A new hold's id is stored with its event's key at once; a later event that grows the hold
    stores the hold's (older) id with its own key: both retries find the one hold."""
    stub = accounts.stub
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
                amount=Money(currency_code="EUR", amount="100.00"),
            )
        )
    )

    def event(key: str, amount: str) -> pb.PlaceHoldRequest:
        money = Money(currency_code="EUR", amount=amount)
        return pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/1", amount=money, request_id=key
        )

    placed, _ = await _answer(stub.PlaceHold(event("event-1", "10.00")))
    grown, _ = await _answer(stub.PlaceHold(event("event-2", "15.00")))
    assert grown.name == placed.name and grown.amount.amount == "25.00"
    for key, amount in (("event-1", "10.00"), ("event-2", "15.00")):
        again, replayed = await _answer(stub.PlaceHold(event(key, amount)))
        assert replayed and again == grown  # the hold as it is now, never a second one
    held = await stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert [(h.name, h.amount.amount) for h in held.holds] == [(placed.name, "25.00")]
