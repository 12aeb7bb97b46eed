"""Hand-over to Legal through a real gRPC server, on SQLite and PostgreSQL: setting bankruptcy
opens a legal case with the snapshot of amounts, puts an escalation to LEGAL (subject the customer
account) in the accounts outbox, stops dunning; every later posting is reported to Legal once;
Legal's answers move the case."""

from __future__ import annotations

from datetime import timedelta

import grpc
from sqlalchemy import select

from common.actor import reset_actor
from common.protoconv import timestamp
from services.accounts.data.models import OutboxEventRow
from services.accounts.outbound.escalations import METHOD
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import reports_pb2_grpc
from settle.common.v1 import reports_pb2 as rpb
from settle.escalation.v1 import escalation_pb2
from tests.accounts.api.dunning_support import eur
from tests.support.rpc import as_actor, expect_error


async def _raised(desk) -> list[escalation_pb2.RaiseEscalationRequest]:
    async with desk.parts.ctx.db.reading_connection() as conn:
        rows = await conn.execute(
            select(OutboxEventRow.method, OutboxEventRow.payload).order_by(
                OutboxEventRow.created_at, OutboxEventRow.id
            )
        )
        return [
            escalation_pb2.RaiseEscalationRequest.FromString(payload)
            for method, payload in rows
            if method == METHOD
        ]


async def test_bankruptcy_hands_the_account_to_legal_and_stops_dunning(dunning):
    customer = await dunning.customer()
    invoice = await dunning.disputed_and_promised_invoice(customer)

    updated = await dunning.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(name=customer.name, etag=customer.etag, bankruptcy=True),
            update_mask="bankruptcy",
        )
    )
    assert updated.bankruptcy and updated.dunning_block  # an active legal case blocks dunning
    (case,) = (
        await dunning.stub.ListLegalCases(pb.ListLegalCasesRequest(customer=customer.name))
    ).legal_cases
    assert case.trigger == "BANKRUPTCY" and case.state == pb.LegalCase.HANDED_OVER
    (snapshot,) = case.snapshots
    (line,) = snapshot.lines
    assert (line.open, line.in_dispute, line.promised, line.to_collect) == (
        eur("1000.00"), eur("300.00"), eur("500.00"), eur("200.00"),
    )  # fmt: skip
    (raised,) = await _raised(dunning)
    assert raised.team == escalation_pb2.LEGAL and raised.subject == customer.name
    assert raised.reason_code == "LEGAL_HANDOVER" and "Acme GmbH" in raised.summary
    assert raised.amount_at_stake == eur("200.00")

    run = await dunning.run(customer)
    assert run.notices == 0 and run.decisions[0].outcome == "CUSTOMER_FLAGGED"
    again = await dunning.stub.UpdateCustomer(  # never a second case while one is active
        pb.UpdateCustomerRequest(
            customer=pb.Customer(name=customer.name, in_litigation=True, bankruptcy=True),
            update_mask="in_litigation",
        )
    )
    assert again.in_litigation
    assert len((await dunning.stub.ListLegalCases(pb.ListLegalCasesRequest())).legal_cases) == 1

    dunning.clock.advance(timedelta(minutes=1))
    payment = await dunning.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name, amount=eur("150.00"), received_date="2026-03-02"
            )
        )
    )
    await dunning.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur("150.00"))],
        )
    )
    assert await dunning.parts.legal.report_once() == 1
    assert await dunning.parts.legal.report_once() == 0
    told = (await _raised(dunning))[-1]
    assert told.team == escalation_pb2.LEGAL and told.trigger_event_id.startswith("postings/")
    assert told.amount_at_stake == eur("150.00") and "PAYMENT" in told.summary

    dunning.clock.advance(timedelta(minutes=1))
    answered = await dunning.stub.RecordLegalAnswer(
        pb.RecordLegalAnswerRequest(
            name=case.name, etag=case.etag, answer=pb.LegalCase.CLAIM_FILED, note="court 12 C 3"
        )
    )
    assert answered.state == pb.LegalCase.CLAIM_FILED
    assert [e.state for e in answered.history] == [
        "HANDED_OVER", "POSTING_REPORTED", "CLAIM_FILED",
    ]  # fmt: skip
    timeline = await dunning.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name)
    )
    legal = [(e.subject, e.event) for e in timeline.entries if e.kind == "LEGAL"]
    assert legal == [(case.name, "CLAIM_FILED"), (case.name, "POSTING_REPORTED"),
                     (case.name, "HANDED_OVER")]  # fmt: skip


async def test_reaching_the_ladders_legal_level_hands_over_with_every_open_invoice(
    dunning,
):
    """An invoice 100 days overdue reaches LEGAL (+90): the run sends the Legal notice, blocks
    dunning and opens a case whose snapshot lists every open invoice, the one not yet due too."""
    customer = await dunning.customer()
    for number, due, amount in (("INV-OLD", "2025-11-22", "400.00"),
                                ("INV-NEW", "2026-03-20", "60.00")):  # fmt: skip
        await dunning.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(customer=customer.name, external_number=number,
                                   invoice_date="2025-11-01", due_date=due, amount=eur(amount))
            )
        )  # fmt: skip
    run = await dunning.run(customer)
    (decision,) = run.decisions
    assert decision.outcome == "NOTICE" and decision.level == 7 and decision.total == eur("400.00")
    (case,) = (
        await dunning.stub.ListLegalCases(pb.ListLegalCasesRequest(customer=customer.name))
    ).legal_cases
    assert case.trigger == "LADDER_LEGAL_LEVEL"
    (snapshot,) = case.snapshots
    assert [(line.number, line.to_collect) for line in snapshot.lines] == [
        ("INV-OLD", eur("400.00")), ("INV-NEW", eur("60.00")),
    ]  # fmt: skip
    got = await dunning.stub.GetCustomer(pb.GetCustomerRequest(name=customer.name))
    assert got.dunning_block
    (raised,) = await _raised(dunning)
    assert raised.team == escalation_pb2.LEGAL and raised.subject == customer.name
    again = await dunning.run(customer, reevaluate=True)
    assert again.decisions[0].outcome == "CUSTOMER_FLAGGED"
    assert len(await _raised(dunning)) == 1


async def test_legal_sees_only_the_accounts_handed_over_to_it(dunning):
    """A Legal user reads customers, invoices, timelines and legal cases only of customers with an
    active case; any other answers NOT_FOUND, as another team's work does. A closed case takes
    the account away again."""
    handed = await dunning.customer()
    handed_invoice = await dunning.disputed_and_promised_invoice(handed)
    settled = await _customer(dunning, "C-2")
    kept = await _customer(dunning, "C-3")
    kept_invoice = await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=kept.name, external_number="INV-K", invoice_date="2026-01-01",
                due_date="2026-01-31", amount=eur("70.00"),
            )
        )
    )  # fmt: skip
    for customer in (handed, settled):
        await dunning.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(name=customer.name, etag=customer.etag, bankruptcy=True),
                update_mask="bankruptcy",
            )
        )
    (closing,) = (
        await dunning.stub.ListLegalCases(pb.ListLegalCasesRequest(customer=settled.name))
    ).legal_cases

    token = as_actor("user:lea", "legal", team="LEGAL")
    try:
        stub = dunning.stub
        for answer in (pb.LegalCase.SETTLED, pb.LegalCase.CLOSED):  # Legal closes it: answered
            closing = await stub.RecordLegalAnswer(
                pb.RecordLegalAnswerRequest(name=closing.name, etag=closing.etag, answer=answer)
            )
        assert closing.state == pb.LegalCase.CLOSED
        assert (await stub.GetCustomer(pb.GetCustomerRequest(name=handed.name))).name
        listed = await stub.ListCustomers(pb.ListCustomersRequest())
        assert [c.name for c in listed.customers] == [handed.name]
        invoices = await stub.ListInvoices(pb.ListInvoicesRequest())
        assert [i.name for i in invoices.invoices] == [handed_invoice.name]
        cases = (await stub.ListLegalCases(pb.ListLegalCasesRequest())).legal_cases
        assert [c.customer for c in cases] == [handed.name]
        await stub.ListCustomerTimeline(pb.ListCustomerTimelineRequest(customer=handed.name))
        (promise,) = (await stub.ListPromises(pb.ListPromisesRequest(parent=handed.name))).promises
        assert (await stub.GetPromise(pb.GetPromiseRequest(name=promise.name))).name
        for other in (settled, kept):
            await expect_error(
                stub.ListPromises(pb.ListPromisesRequest(parent=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
            await expect_error(
                stub.GetPromiseRecord(pb.GetPromiseRecordRequest(customer=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
            await expect_error(
                stub.GetCustomer(pb.GetCustomerRequest(name=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
            await expect_error(
                stub.ListCustomerTimeline(pb.ListCustomerTimelineRequest(customer=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
            await expect_error(
                stub.GetCustomerBalance(pb.GetCustomerBalanceRequest(customer=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
            await expect_error(
                stub.ListNotices(pb.ListNoticesRequest(customer=other.name)),
                grpc.StatusCode.NOT_FOUND,
            )
        await expect_error(
            stub.GetInvoice(pb.GetInvoiceRequest(name=kept_invoice.name)),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_error(
            stub.GetLegalCase(pb.GetLegalCaseRequest(name=closing.name)),
            grpc.StatusCode.NOT_FOUND,
        )
    finally:
        reset_actor(token)
    # everyone else still sees all of them
    assert len((await dunning.stub.ListCustomers(pb.ListCustomersRequest())).customers) == 3
    assert len((await dunning.stub.ListLegalCases(pb.ListLegalCasesRequest())).legal_cases) == 2


async def test_legal_reads_funds_billing_accounts_aging_and_reports_of_its_accounts_only(
    dunning,
):
    """Payments, credit notes and billing accounts of an account without an active legal case
    answer NOT_FOUND to a Legal user, like its customer; the aging and the reports cover only
    the accounts handed over to Legal."""
    handed, kept = await dunning.customer(), await _customer(dunning, "C-2")
    for n, customer in enumerate((handed, kept)):
        await dunning.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name, external_number=f"INV-{n}",
                    invoice_date="2026-01-01", due_date="2026-01-31",
                    amount=eur("100.00" if customer is handed else "7000.00"),
                )
            )
        )  # fmt: skip
        await dunning.stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(customer=customer.name, amount=eur("10.00"),
                                   received_date="2026-02-01", reference=f"B{n}")
            )
        )  # fmt: skip
        await dunning.stub.CreateCreditNote(
            pb.CreateCreditNoteRequest(
                credit_note=pb.CreditNote(customer=customer.name, amount=eur("5.00"),
                                          issue_date="2026-02-01", external_number=f"CN{n}")
            )
        )  # fmt: skip
        await dunning.stub.CreateBillingAccount(
            pb.CreateBillingAccountRequest(
                parent=customer.name,
                billing_account=pb.BillingAccount(number=f"BA{n}", currency_code="EUR"),
            )
        )
    await dunning.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(name=handed.name, etag=handed.etag, bankruptcy=True),
            update_mask="bankruptcy",
        )
    )
    reports = reports_pb2_grpc.AccountsReportsServiceStub(dunning.channel)
    as_of = timestamp(dunning.clock.now())

    token = as_actor("user:lea", "legal", team="LEGAL")
    try:
        stub = dunning.stub
        paid = await stub.ListPayments(pb.ListPaymentsRequest(customer=handed.name))
        assert [p.reference for p in paid.payments] == ["B0"]
        credits = await stub.ListCreditNotes(pb.ListCreditNotesRequest(customer=handed.name))
        assert [c.external_number for c in credits.credit_notes] == ["CN0"]
        accounts = await stub.ListBillingAccounts(pb.ListBillingAccountsRequest(parent=handed.name))
        assert [a.number for a in accounts.billing_accounts] == ["BA0"]
        for call in (
            stub.ListPayments(pb.ListPaymentsRequest(customer=kept.name)),
            stub.ListCreditNotes(pb.ListCreditNotesRequest(customer=kept.name)),
            stub.ListBillingAccounts(pb.ListBillingAccountsRequest(parent=kept.name)),
            stub.GetAgingReport(pb.GetAgingReportRequest(as_of="2026-03-02", customer=kept.name)),
        ):
            await expect_error(call, grpc.StatusCode.NOT_FOUND)
        aging = await stub.GetAgingReport(
            pb.GetAgingReportRequest(as_of="2026-03-02", by_customer=True)
        )
        assert [t.total_open for t in aging.totals] == [eur("100.00")]
        assert [c.customer for c in aging.customers] == [handed.name]
        result = await reports.RunReport(
            rpb.RunReportRequest(report="aging-by-customer", as_of=as_of)
        )
        names = {row.values[1].string_value for row in result.tables[0].rows}
        assert names == {"Acme GmbH"}
    finally:
        reset_actor(token)
    # everyone else still sees both
    aging = await dunning.stub.GetAgingReport(pb.GetAgingReportRequest(as_of="2026-03-02"))
    assert [t.total_open for t in aging.totals] == [eur("7100.00")]


async def _customer(desk, ref: str) -> pb.Customer:
    return await desk.stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(
                display_name=f"Other {ref}", external_ref=ref, currency_code="EUR",
                country_code="DE", time_zone="Europe/Berlin",
                contacts=[pb.Contact(name="Bo", email="bo@other.example")],
            )
        )
    )  # fmt: skip
