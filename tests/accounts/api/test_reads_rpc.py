"""The read paths (prebuilt Core statements, children joined, pages in a subquery) answer exactly
what the write paths returned, page by parent rather than by joined row, and keep the listing
semantics: filters, order, page tokens."""

from __future__ import annotations

from datetime import timedelta

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import expect_error


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


def contacts(n: int) -> list[pb.Contact]:
    return [pb.Contact(name=f"C{i}", email=f"c{i}@acme.example", role=f"r{i}") for i in range(n)]


async def new_customer(stub, ref: str, n_contacts: int = 3, **fields) -> pb.Customer:
    customer = pb.Customer(
        display_name=f"Customer {ref}",
        external_ref=ref,
        currency_code="EUR",
        contacts=contacts(n_contacts),
        **fields,
    )
    return await stub.CreateCustomer(pb.CreateCustomerRequest(customer=customer))


async def new_invoice(stub, customer: str, number: str, due: str, lines: int = 2) -> pb.Invoice:
    invoice = pb.Invoice(
        customer=customer,
        external_number=number,
        invoice_date="2026-01-02",
        due_date=due,
        amount=eur(f"{100 * max(lines, 1)}.00"),
        lines=[pb.InvoiceLine(description=f"line {i}", amount=eur("100.00")) for i in range(lines)],
    )
    return await stub.CreateInvoice(pb.CreateInvoiceRequest(invoice=invoice))


async def test_get_customer_answers_what_create_and_update_returned(accounts):
    created = await new_customer(accounts.stub, "C-1", credit_limit=eur("5000.00"))
    got = await accounts.stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
    assert got == created
    assert [c.name for c in got.contacts] == ["C0", "C1", "C2"]
    update = pb.Customer(name=created.name, contacts=contacts(1))
    updated = await accounts.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(customer=update, update_mask="contacts")
    )
    assert await accounts.stub.GetCustomer(pb.GetCustomerRequest(name=created.name)) == updated
    bare = await new_customer(accounts.stub, "C-2", n_contacts=0)
    assert await accounts.stub.GetCustomer(pb.GetCustomerRequest(name=bare.name)) == bare


async def test_customer_pages_count_customers_not_contacts(accounts):
    made = [await new_customer(accounts.stub, f"C-{i}", n_contacts=3 - i) for i in range(3)]
    first = await accounts.stub.ListCustomers(
        pb.ListCustomersRequest(order_by="external_ref desc", page_size=2)
    )
    assert list(first.customers) == [made[2], made[1]]
    second = await accounts.stub.ListCustomers(
        pb.ListCustomersRequest(
            order_by="external_ref desc", page_size=2, page_token=first.next_page_token
        )
    )
    assert list(second.customers) == [made[0]]
    assert second.next_page_token == ""


async def test_get_and_list_invoice_answer_what_create_returned(accounts):
    customer = await new_customer(accounts.stub, "C-1")
    invoice = await new_invoice(accounts.stub, customer.name, "INV-1", "2026-02-01", lines=3)
    got = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert got == invoice
    listed = await accounts.stub.ListInvoices(
        pb.ListInvoicesRequest(filter=f"customer={customer.name}")
    )
    assert list(listed.invoices) == [invoice]
    await expect_error(
        accounts.stub.GetInvoice(pb.GetInvoiceRequest(name="invoices/" + "0" * 32)),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_holds_are_read_in_order_and_released_ones_disappear(accounts):
    customer = await new_customer(accounts.stub, "C-1")
    invoice = await new_invoice(accounts.stub, customer.name, "INV-1", "2026-02-01")
    for n in (1, 2):
        await accounts.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name,
                dispute=f"disputes/{n}",
                amount=eur("30.00"),
                request_id=f"p{n}",
            )
        )
        accounts.clock.advance(timedelta(minutes=1))
    got = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert [h.dispute for h in got.holds] == ["disputes/1", "disputes/2"]
    assert got.held_amount.amount == "60.00"
    await accounts.stub.ReleaseHold(
        pb.ReleaseHoldRequest(invoice=invoice.name, dispute="disputes/1", request_id="r1")
    )
    after = await accounts.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert [h.dispute for h in after.holds] == ["disputes/2"]
    assert after.held_amount.amount == "30.00"
    listed = await accounts.stub.ListInvoices(pb.ListInvoicesRequest())
    assert list(listed.invoices) == [after]


async def test_invoice_lists_filter_order_and_page_by_invoice(accounts):
    customer = await new_customer(accounts.stub, "C-1")
    other = await new_customer(accounts.stub, "C-2")
    made = [
        await new_invoice(accounts.stub, customer.name, f"INV-{i}", f"2026-02-0{i + 1}")
        for i in range(4)
    ]
    await new_invoice(accounts.stub, other.name, "INV-X", "2026-02-09")
    payment = await accounts.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name, amount=eur("200.00"), received_date="2026-02-10"
            )
        )
    )
    await accounts.stub.AllocateFunds(  # INV-0 paid: CLOSED
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=made[0].name, amount=eur("200.00"))],
        )
    )
    query = f"customer={customer.name} AND status=OPEN AND due_date>=2026-02-02"
    first = await accounts.stub.ListInvoices(
        pb.ListInvoicesRequest(filter=query, order_by="due_date desc", page_size=2)
    )
    assert list(first.invoices) == [made[3], made[2]]  # every line with its own invoice
    second = await accounts.stub.ListInvoices(
        pb.ListInvoicesRequest(
            filter=query, order_by="due_date desc", page_size=2, page_token=first.next_page_token
        )
    )
    assert list(second.invoices) == [made[1]]
    assert second.next_page_token == ""
    closed = await accounts.stub.ListInvoices(
        pb.ListInvoicesRequest(filter=f"customer={customer.name} AND status=CLOSED")
    )
    assert [i.external_number for i in closed.invoices] == ["INV-0"]
    await expect_error(
        accounts.stub.ListInvoices(
            pb.ListInvoicesRequest(filter=query, page_token=first.next_page_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="page_token",
    )


async def test_balance_counts_holds_and_a_missing_customer_is_not_found(accounts):
    customer = await new_customer(accounts.stub, "C-1")
    invoice = await new_invoice(accounts.stub, customer.name, "INV-1", "2026-04-01")
    await accounts.stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/1", amount=eur("50.00"), request_id="p"
        )
    )
    balance = await accounts.stub.GetCustomerBalance(
        pb.GetCustomerBalanceRequest(customer=customer.name)
    )
    (eur_balance,) = balance.balances
    assert (
        eur_balance.open_receivables.amount,
        eur_balance.held.amount,
        eur_balance.collectible.amount,
        eur_balance.overdue.amount,  # due 2026-04-01, today is 2026-03-02
    ) == ("200.00", "50.00", "150.00", "0.00")
    await expect_error(
        accounts.stub.GetCustomerBalance(
            pb.GetCustomerBalanceRequest(customer="customers/" + "0" * 32)
        ),
        grpc.StatusCode.NOT_FOUND,
    )
