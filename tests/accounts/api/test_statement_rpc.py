"""The statement of account through the RPCs, on both databases: the same figures as CSV and PDF,
and as of a past date the amounts of that date."""

from __future__ import annotations

from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.dunning_support import eur


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
