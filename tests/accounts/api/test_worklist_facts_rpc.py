"""The worklist's per-customer facts summary (data/customer_facts.py) through a real gRPC server,
on SQLite and PostgreSQL: after a random sequence of writes through the RPCs it equals a
recomputation from scratch, and what the worklist derives from it equals the facts aggregated
from the sources themselves, on the day of the writes and on later days without a write."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import grpc
from sqlalchemy import and_, bindparam, case, func, select

from services.accounts.data import customer_facts, worklist_reads
from services.accounts.data.collections_models import (
    AssignmentRow,
    CustomerFactsAheadRow,
    CustomerFactsRow,
    InteractionRow,
    PromiseRow,
)
from services.accounts.data.dunning_models import NoticeRow
from services.accounts.data.models import CustomerRow, HoldRow, InvoiceRow
from services.accounts.domain.worklist import CustomerFacts
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.collections_support import CARL, State, _log, _ts, eur

HEADER = (
    "countryCode,customerID,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate"
)


def _us(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


# --- the facts from their sources: the worklist's definition, aggregated anew on every read ---
_a, _c, _inv = AssignmentRow.__table__, CustomerRow.__table__, InvoiceRow.__table__
_p, _i, _n, _h = (
    PromiseRow.__table__,
    InteractionRow.__table__,
    NoticeRow.__table__,
    HoldRow.__table__,
)
_today = bindparam("today", type_=_inv.c.due_date.type)


def _from_sources():
    overdue = and_(_inv.c.due_date < _today, _inv.c.open_minor > _inv.c.held_minor)
    counted = _inv.c.currency == func.coalesce(func.nullif(_c.c.currency_code, ""), _inv.c.currency)
    inv = (
        select(
            _inv.c.customer_id,
            func.max(_inv.c.currency).label("currency"),
            func.sum(_inv.c.open_minor).label("open_minor"),
            func.sum(_inv.c.held_minor).label("held_minor"),
            func.sum(case((overdue, _inv.c.open_minor - _inv.c.held_minor), else_=0)).label("od"),
            func.min(case((overdue, _inv.c.due_date))).label("oldest_due"),
        )
        .join(_c, _c.c.id == _inv.c.customer_id)
        .where(_inv.c.open_minor > 0, counted)
        .group_by(_inv.c.customer_id)
        .subquery()
    )
    disputes = (
        select(_inv.c.customer_id, func.count(_h.c.dispute.distinct()).label("n"))
        .join(_inv, _inv.c.id == _h.c.invoice_id)
        .where(_h.c.amount_minor > 0)
        .group_by(_inv.c.customer_id)
        .subquery()
    )
    is_open = _p.c.state == "OPEN"
    prom = (
        select(
            _p.c.customer_id,
            func.sum(case((is_open, _p.c.amount_minor), else_=0)).label("promised"),
            func.sum(case((_p.c.state == "BROKEN", 1), else_=0)).label("broken"),
            func.max(case((and_(is_open, _p.c.promised_date == _today), 1), else_=0)).label("dt"),
        )
        .group_by(_p.c.customer_id)
        .subquery()
    )
    last = select(func.max(_i.c.occurred_at)).where(_i.c.customer_id == _a.c.customer_id)
    call_back = (
        select(_i.c.call_back_at)
        .where(_i.c.customer_id == _a.c.customer_id)
        .order_by(_i.c.occurred_at.desc(), _i.c.created_at.desc())
        .limit(1)
    )
    task = select(func.max(_n.c.created_at)).where(
        _n.c.customer_id == _a.c.customer_id, _n.c.channel == "PHONE_TASK"
    )
    return (
        select(
            _a.c.customer_id,
            _c.c.display_name,
            _a.c.collector,
            func.coalesce(func.nullif(_c.c.currency_code, ""), inv.c.currency, ""),
            func.coalesce(inv.c.open_minor, 0),
            func.coalesce(inv.c.held_minor, 0),
            func.coalesce(prom.c.promised, 0),
            func.coalesce(inv.c.od, 0),
            inv.c.oldest_due,
            func.coalesce(prom.c.broken, 0),
            func.coalesce(prom.c.dt, 0),
            last.scalar_subquery(),
            call_back.scalar_subquery(),
            func.coalesce(disputes.c.n, 0),
            _c.c.credit_hold,
            _c.c.bankruptcy,
            _c.c.in_litigation,
            _c.c.risk_class,
            task.scalar_subquery(),
        )
        .join(_c, _c.c.id == _a.c.customer_id)
        .outerjoin(inv, inv.c.customer_id == _a.c.customer_id)
        .outerjoin(prom, prom.c.customer_id == _a.c.customer_id)
        .outerjoin(disputes, disputes.c.customer_id == _a.c.customer_id)
        .order_by(_a.c.customer_id)
    )


FROM_SOURCES = _from_sources()


async def _facts_from_sources(conn, today: date) -> list[CustomerFacts]:
    return [
        CustomerFacts(
            *r[:4], *(int(x) for x in r[4:8]), r[8], int(r[9]), bool(r[10]), r[11], r[12],
            int(r[13]), *r[14:]
        )
        for r in await conn.execute(FROM_SOURCES, {"today": today})
    ]  # fmt: skip


async def assert_facts_agree(desk, days=(0, 1, 3, 10, 40)) -> None:
    """What the worklist reads equals the facts aggregated from the sources, today and on the
    later days listed (no write in between: what falls due meanwhile comes from the dated rows)."""
    async with desk.parts.ctx.db.reading_connection() as conn:
        for later in days:
            day = desk.clock.today() + timedelta(days=later)
            summarised = await worklist_reads.facts(conn, "all", "", day)
            from_sources = await _facts_from_sources(conn, day)
            assert summarised == from_sources, f"{later} days later"
            # a collector's book: on PostgreSQL the statement that looks rows up by key
            book = await worklist_reads.facts(conn, "collector", CARL, day)
            assert book == [f for f in from_sources if f.collector == CARL]


async def assert_summary_is_a_recomputation(desk) -> None:
    """The summary kept by the writes equals the one a recomputation of every customer writes."""
    today, db = desk.clock.today(), desk.parts.ctx.db
    summary = select(CustomerFactsRow.__table__).order_by(CustomerFactsRow.customer_id)
    t = CustomerFactsAheadRow.__table__
    ahead = select(t).where(t.c.day >= today).order_by(t.c.customer_id, t.c.day)

    async def read():
        async with db.reading_connection() as conn:
            return (await conn.execute(summary)).all(), (await conn.execute(ahead)).all()

    kept = await read()
    async with db.transaction() as session:
        ids = (await session.execute(select(CustomerRow.id))).scalars().all()
        await customer_facts.refresh(session, ids, today)
    assert kept == await read()
    assert len(kept[0]) == len(ids)  # every customer has its row


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


async def test_days_passing_without_a_write_move_what_is_overdue(desk):
    """Recomputed on 2 March; read on later days: the invoice due 10 March becomes overdue, the
    promise of 5 March is due that day, and neither is stored as of the write."""
    customer = await desk.customer()
    await desk.invoice(customer, "INV-OLD", amount="100.00", due="2026-02-01")
    future = await desk.invoice(customer, "INV-NEW", amount="50.00", due="2026-03-10")
    await desk.promise(customer, future, amount="20.00", on="2026-03-05")
    async with desk.parts.ctx.db.reading_connection() as conn:

        async def on(day: str) -> CustomerFacts:
            (facts,) = await worklist_reads.facts(conn, "all", "", date.fromisoformat(day))
            return facts

        assert ((await on("2026-03-02")).overdue_minor, (await on("2026-03-11")).overdue_minor) == (
            10_000,
            15_000,
        )
        assert (await on("2026-03-10")).overdue_minor == 10_000  # due that day: not yet overdue
        assert [(await on(d)).promise_due_today for d in ("2026-03-04", "2026-03-05")] == [
            False,
            True,
        ]
        assert (await on("2026-03-11")).oldest_due == date(2026, 2, 1)
    desk.clock.set(datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    await assert_facts_agree(desk)
