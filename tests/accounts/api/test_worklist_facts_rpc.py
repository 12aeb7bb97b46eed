"""The worklist's per-customer facts summary (data/customer_facts.py) through a real gRPC server,
on SQLite and PostgreSQL: after a random sequence of writes through the RPCs it equals a
recomputation from scratch, and what the worklist derives from it equals the facts aggregated
from the sources themselves (tests/accounts/api/facts_support.py)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.collections_support import State, _log, _ts, eur
from tests.accounts.api.facts_support import assert_facts_agree, assert_summary_is_a_recomputation

HEADER = (
    "countryCode,customerID,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate"
)


def _us(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


# --- random writes -----------------------------------------------------------------------------
REFUSALS = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT)


class Writer:
    """Random writes through the RPCs (a refused one is part of the game: it changes nothing)."""

    def __init__(self, desk, rnd: random.Random):
        self.desk, self.rnd, self.stub = desk, rnd, desk.stub
        self.customers, self.invoices, self.payments, self.promises = [], [], [], []
        self.n = 0
        self.done: Counter[str] = Counter()  # writes that went through, by kind

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    def _amount(self, top_minor: int) -> str:
        minor = self.rnd.randint(1, max(1, top_minor))
        return f"{minor // 100}.{minor % 100:02d}"

    async def _invoice(self, invoice):
        return await self.stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))

    async def _collectible_minor(self, invoice) -> int:
        got = await self._invoice(invoice)
        return round(float(got.collectible_amount.amount) * 100)

    async def new_customer(self):
        self.customers.append(await self.desk.customer(self._id("C")))

    async def new_invoice(self):
        customer = self.rnd.choice(self.customers)
        due = self.desk.clock.today() + timedelta(days=self.rnd.randint(-60, 20))
        made = await self.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name,
                    external_number=self._id("INV"),
                    invoice_date=(due - timedelta(days=30)).isoformat(),
                    due_date=due.isoformat(),
                    amount=eur(self._amount(500_000)),
                )
            )
        )
        self.invoices.append((customer, made))

    async def pay(self):
        customer, invoice = self.rnd.choice(self.invoices)
        got = await self._invoice(invoice)
        room = round((float(got.open_amount.amount) - float(got.held_amount.amount)) * 100)
        amount = self._amount(room)
        payment = await self.stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(
                    customer=customer.name,
                    amount=eur(amount),
                    received_date=self.desk.clock.today().isoformat(),
                )
            )
        )
        await self.stub.AllocateFunds(
            pb.AllocateFundsRequest(
                source=payment.name,
                allocations=[pb.Allocation(invoice=invoice.name, amount=eur(amount))],
            )
        )
        self.payments.append((payment, invoice))

    async def reverse(self):
        payment, invoice = self.rnd.choice(self.payments)
        await self.stub.ReverseAllocation(
            pb.ReverseAllocationRequest(
                source=payment.name,
                invoice=invoice.name,
                reason_code="PAYMENT_RETURNED",
                request_id=self._id("rev"),
            )
        )

    async def hold(self):
        _, invoice = self.rnd.choice(self.invoices)
        dispute = self.rnd.choice(("disputes/1", "disputes/2"))
        amount = self._amount(await self._collectible_minor(invoice))
        await self.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name, dispute=dispute, amount=eur(amount), request_id=self._id("h")
            )
        )

    async def _a_hold(self):
        """(an invoice, one of its holds with something held), or None."""
        held = []
        for _, invoice in self.invoices:
            got = await self._invoice(invoice)
            held += [(invoice, h) for h in got.holds if not h.released]
        return self.rnd.choice(held) if held else None

    async def release(self):
        if (found := await self._a_hold()) is None:
            return False
        invoice, hold = found
        part = self.rnd.random() < 0.5
        await self.stub.ReleaseHold(
            pb.ReleaseHoldRequest(
                invoice=invoice.name,
                dispute=hold.dispute,
                amount=eur(self._amount(round(float(hold.amount.amount) * 100))) if part else None,
                request_id=self._id("r"),
            )
        )

    async def credit_dispute(self):
        if (found := await self._a_hold()) is None:
            return False
        invoice, hold = found
        await self.stub.PostDisputeAdjustment(
            pb.PostDisputeAdjustmentRequest(
                invoice=invoice.name,
                dispute=hold.dispute,
                kind=self.rnd.choice((pb.CREDIT, pb.WRITE_OFF)),
                amount=eur(self._amount(round(float(hold.amount.amount) * 100))),
                reason_code="PRICING",
                request_id=self._id("adj"),
            )
        )

    async def promise(self):
        customer, invoice = self.rnd.choice(self.invoices)
        on = self.desk.clock.today() + timedelta(days=self.rnd.randint(0, 4))
        made = await self.stub.CreatePromise(
            pb.CreatePromiseRequest(
                parent=customer.name,
                promise_plan=pb.PromisePlan(
                    promise=pb.PromiseToPay(
                        amount=eur(self._amount(await self._collectible_minor(invoice))),
                        promised_date=on.isoformat(),
                        invoices=[invoice.name],
                    )
                ),
            )
        )
        self.promises.extend(made.promises)

    async def end_promise(self):
        promise = self.rnd.choice(self.promises)
        now = await self.stub.GetPromise(pb.GetPromiseRequest(name=promise.name))
        if now.state != State.OPEN:
            return False
        if self.rnd.random() < 0.5:
            await self.stub.WithdrawPromise(pb.WithdrawPromiseRequest(name=now.name, etag=now.etag))
        else:
            await self.stub.CancelPromise(pb.CancelPromiseRequest(name=now.name, etag=now.etag))

    async def contact(self):
        customer = self.rnd.choice(self.customers)
        if self.rnd.random() < 0.5:
            at = self.desk.clock.now() + timedelta(hours=self.rnd.randint(1, 30))
            await self.stub.LogInteraction(_log(customer, "CALL_BACK", call_back_time=_ts(at)))
        else:
            await self.stub.LogInteraction(_log(customer, "NO_ANSWER"))

    async def switch_currency(self):
        customer = self.rnd.choice(self.customers)
        got = await self.stub.GetCustomer(pb.GetCustomerRequest(name=customer.name))
        got.currency_code = "USD" if got.currency_code == "EUR" else "EUR"
        await self.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(customer=got, update_mask="currency_code")
        )

    async def import_items(self):
        """Open items from CSV (the summary adds them rather than recomputing): for customers
        known and new, some settled, in the customers' currency or another (not counted)."""
        today, number = self.desk.clock.today(), 7_000_000_000 + self.n
        refs = [c.external_ref for c in self.customers] + [self._id("IMP")]
        lines = [HEADER]
        for i in range(self.rnd.randint(1, 6)):
            due = today + timedelta(days=self.rnd.randint(-60, 20))
            invoiced = due - timedelta(days=30)
            settled = _us(invoiced + timedelta(days=3)) if self.rnd.random() < 0.2 else ""
            row = (self.rnd.choice(refs), f"{number + i:010d}", _us(invoiced), _us(due))
            lines.append(",".join(("391", *row, self._amount(500_000), "No", settled)))
        self.n += 6
        data = ("\n".join(lines) + "\n").encode()
        currency = self.rnd.choice(("EUR", "EUR", "USD"))

        async def parts():
            options = pb.ImportOptions(currency_code=currency, file_name="items.csv")
            yield pb.ImportOpenItemsRequest(options=options)
            yield pb.ImportOpenItemsRequest(chunk=data)

        report = await self.stub.ImportOpenItems(parts())
        assert (report.imported, len(report.rejected)) == (len(lines) - 1, 0), report
        # at once: a later write's recomputation of these customers would hide a wrong delta
        await assert_summary_is_a_recomputation(self.desk)

    async def time_passes(self):
        self.desk.clock.advance(timedelta(hours=self.rnd.randint(1, 60)))
        await self.desk.evaluate()
        # at once: the evaluator takes its judged promises away rather than recomputing
        await assert_summary_is_a_recomputation(self.desk)

    async def step(self) -> None:
        weighted = [
            (self.new_invoice, 4), (self.pay, 3), (self.hold, 2), (self.promise, 3),
            (self.contact, 2), (self.time_passes, 3), (self.release, 1), (self.credit_dispute, 1),
            (self.end_promise, 1), (self.switch_currency, 1), (self.import_items, 2),
        ]  # fmt: skip
        if self.payments:
            weighted.append((self.reverse, 2))
        if not self.promises:
            weighted = [(op, w) for op, w in weighted if op != self.end_promise]
        ops, weights = zip(*weighted, strict=True)
        op = self.rnd.choices(ops, weights)[0]
        try:
            wrote = await op()
        except grpc.aio.AioRpcError as refused:
            assert refused.code() in REFUSALS, refused
        else:
            if wrote is not False:
                self.done[op.__name__] += 1


async def test_after_random_writes_the_summary_is_a_recomputation_and_agrees_with_the_sources(
    desk,
):
    writer = Writer(desk, random.Random(13))
    for _ in range(3):
        await writer.new_customer()
    for _ in range(3):
        await writer.new_invoice()
    for n in range(80):
        await writer.step()
        if n % 20 == 19:
            await assert_facts_agree(desk)
    await assert_summary_is_a_recomputation(desk)
    await assert_facts_agree(desk)
    assert set(writer.done) == {
        "new_invoice", "pay", "reverse", "hold", "release", "credit_dispute", "promise",
        "end_promise", "contact", "switch_currency", "time_passes", "import_items",
    }  # fmt: skip
