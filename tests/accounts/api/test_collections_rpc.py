"""The collector's day through a real gRPC server, on SQLite and PostgreSQL: interactions and
their outcome codes, promises to pay and their judgement, the timeline and the worklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.actor import reset_actor
from common.clock import ManualClock
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.common.v1.common_pb2 import Money
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, expect_error, running

State = pb.PromiseToPay.State
CARL, LENA = "user:carl", "user:lena"


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


@pytest.fixture
async def desk(backend, database_factory):
    """The accounts service (workers off: the tests run the evaluator's passes themselves), with
    the caller a collector, carl, whose customer is assigned to him."""
    url = database_factory.new_url(backend, "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday
    settings = accounts_settings(url)
    settings = type(settings)(**{**vars(settings), "workers_enabled": False})
    parts = assemble(settings, clock=clock)
    token = as_actor(CARL, "collector")
    try:
        async with running(parts.process) as address, channel(address) as ch:
            yield Desk(accounts_pb2_grpc.AccountsServiceStub(ch), clock, parts)
    finally:
        reset_actor(token)


class Desk:
    def __init__(self, stub, clock, parts):
        self.stub, self.clock, self.parts = stub, clock, parts

    async def customer(self, ref="C-1", time_zone="Europe/Berlin", country="DE", assign=True):
        customer = await self.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(
                    display_name="Acme",
                    external_ref=ref,
                    currency_code="EUR",
                    country_code=country,
                    time_zone=time_zone,
                    contacts=[pb.Contact(name="Ann Payable", email="ann@acme.example")],
                )
            )
        )
        if assign:
            token = as_actor(LENA, "team_lead", team="DACH")
            try:
                await self.stub.BulkReassignCustomers(
                    pb.BulkReassignCustomersRequest(customers=[customer.name], collector=CARL)
                )
            finally:
                reset_actor(token)
        return customer

    async def invoice(self, customer, number="INV-1", amount="1000.00", due="2026-01-15"):
        return await self.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name,
                    external_number=number,
                    invoice_date="2025-11-01",
                    due_date=due,
                    amount=eur(amount),
                )
            )
        )

    async def pay(self, customer, invoice, amount):
        payment = await self.stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(
                    customer=customer.name, amount=eur(amount), received_date="2026-03-02"
                )
            )
        )
        await self.stub.AllocateFunds(
            pb.AllocateFundsRequest(
                source=payment.name,
                allocations=[pb.Allocation(invoice=invoice.name, amount=eur(amount))],
            )
        )

    async def promise(self, customer, invoice, amount="400.00", on="2026-03-06"):
        made = await self.stub.CreatePromise(
            pb.CreatePromiseRequest(
                parent=customer.name,
                promise_plan=pb.PromisePlan(
                    promise=pb.PromiseToPay(
                        amount=eur(amount), promised_date=on, invoices=[invoice.name]
                    )
                ),
            )
        )
        return made.promises[0]

    async def evaluate(self):
        return await self.parts.evaluator.evaluate_once()

    async def state(self, promise):
        return (await self.stub.GetPromise(pb.GetPromiseRequest(name=promise.name))).state


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def _log(customer, code, **kw) -> pb.LogInteractionRequest:
    plan = kw.pop("promise_plan", None)
    request = pb.LogInteractionRequest(
        parent=customer.name,
        interaction=pb.Interaction(
            channel=pb.Interaction.PHONE, outcome_code=code, contact_index=1, **kw
        ),
    )
    if plan is not None:
        request.promise_plan.CopyFrom(plan)
    return request


async def test_outcome_codes_are_seeded_extended_and_deactivated_never_deleted(desk):
    codes = {
        c.code: c
        for c in (await desk.stub.ListOutcomeCodes(pb.ListOutcomeCodesRequest())).outcome_codes
    }
    assert codes["PROMISE_TO_PAY"].requires == pb.PROMISE
    assert codes["DISPUTE_RAISED"].requires == pb.DISPUTE
    assert codes["CALL_BACK"].requires == pb.CALL_BACK_TIME
    assert {"NO_ANSWER", "LEFT_MESSAGE", "WRONG_CONTACT", "PAYMENT_SENT", "REFUSED",
            "INVOICE_NOT_RECEIVED"} <= set(codes)  # fmt: skip
    await desk.stub.CreateOutcomeCode(
        pb.CreateOutcomeCodeRequest(
            outcome_code=pb.OutcomeCode(code="ON_HOLIDAY", requires=pb.NONE)
        )
    )
    await desk.stub.DeactivateOutcomeCode(
        pb.DeactivateOutcomeCodeRequest(name="outcomeCodes/ON_HOLIDAY")
    )
    active = await desk.stub.ListOutcomeCodes(pb.ListOutcomeCodesRequest())
    every = await desk.stub.ListOutcomeCodes(pb.ListOutcomeCodesRequest(show_inactive=True))
    assert "ON_HOLIDAY" not in {c.code for c in active.outcome_codes}
    assert "ON_HOLIDAY" in {c.code for c in every.outcome_codes}
    customer = await desk.customer()
    await expect_error(
        desk.stub.LogInteraction(_log(customer, "ON_HOLIDAY")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="interaction.outcome_code",
    )


async def test_promise_to_pay_without_a_promise_is_refused_and_nothing_is_written(desk):
    customer = await desk.customer()
    await expect_error(
        desk.stub.LogInteraction(_log(customer, "PROMISE_TO_PAY", note="will pay friday")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="promise_plan",
    )
    await expect_error(
        desk.stub.LogInteraction(_log(customer, "DISPUTE_RAISED")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="interaction.dispute",
    )
    await expect_error(
        desk.stub.LogInteraction(_log(customer, "CALL_BACK")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="interaction.call_back_time",
    )
    timeline = await desk.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name)
    )
    assert list(timeline.entries) == []


async def test_an_interaction_takes_its_promise_in_the_same_request_and_the_timeline_merges(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    plan = pb.PromisePlan(
        promise=pb.PromiseToPay(invoices=[invoice.name]),
        instalments=[
            pb.Instalment(amount=eur("300.00"), promised_date="2026-03-06"),
            pb.Instalment(amount=eur("300.00"), promised_date="2026-04-06"),
        ],
    )
    logged = await desk.stub.LogInteraction(
        _log(customer, "PROMISE_TO_PAY", note="two instalments", promise_plan=plan)
    )
    again = await desk.stub.LogInteraction(
        _log(customer, "PROMISE_TO_PAY", note="two instalments", promise_plan=plan)
    )
    assert logged.author == CARL and len(logged.promises) == 2 and again.name != logged.name
    first = await desk.stub.GetPromise(pb.GetPromiseRequest(name=logged.promises[0]))
    assert first.state == State.OPEN and first.interaction == logged.name
    assert first.instalment == 1 and first.taken_by == CARL
    desk.clock.advance(timedelta(minutes=5))
    await desk.pay(customer, invoice, "100.00")
    entries = (
        await desk.stub.ListCustomerTimeline(
            pb.ListCustomerTimelineRequest(customer=customer.name, page_size=50)
        )
    ).entries
    kinds = [e.kind for e in entries]
    assert kinds[:2] == ["ALLOCATION", "PAYMENT"] and "INTERACTION" in kinds and "PROMISE" in kinds
    assert [e.occur_time.ToDatetime() for e in entries] == sorted(
        (e.occur_time.ToDatetime() for e in entries), reverse=True
    )
    page = await desk.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name, page_size=2)
    )
    rest = await desk.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(
            customer=customer.name, page_size=50, page_token=page.next_page_token
        )
    )
    assert [e.subject for e in (*page.entries, *rest.entries)] == [e.subject for e in entries]


async def test_a_promise_is_judged_exactly_at_its_deadline_across_dst_and_a_weekend(desk):
    # Promised Friday 2026-03-27 in Berlin; tolerance 2 business days skips the weekend (DST
    # starts Sunday 29 March): the deadline is the end of Tuesday 31 March, 22:00 UTC (CEST).
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    promise = await desk.promise(customer, invoice, on="2026-03-27")
    deadline = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert promise.deadline_time.ToDatetime(tzinfo=UTC) == deadline
    desk.clock.set(deadline - timedelta(microseconds=1))
    assert sum((await desk.evaluate()).judged.values()) == 0
    desk.clock.set(deadline)
    assert (await desk.evaluate()).judged == {"BROKEN": 1}
    assert await desk.state(promise) == State.BROKEN
    assert sum((await desk.evaluate()).judged.values()) == 0  # judged once


async def test_public_holidays_of_the_customers_country_extend_the_tolerance(desk):
    # Good Friday 2026-04-03 and Easter Monday 04-06 are German holidays: promised Thursday 2 April,
    # two business days later is Wednesday 8 April.
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    promise = await desk.promise(customer, invoice, on="2026-04-02")
    assert promise.deadline_time.ToDatetime(tzinfo=UTC) == datetime(2026, 4, 8, 22, 0, tzinfo=UTC)


async def test_paid_in_full_early_is_kept_at_once_and_part_payment_is_partially_kept(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    kept = await desk.promise(customer, invoice, amount="200.00")
    await desk.pay(customer, invoice, "200.00")
    assert await desk.state(kept) == State.KEPT
    desk.clock.advance(timedelta(minutes=1))  # payments before a promise do not count for it
    partial = await desk.promise(customer, invoice, amount="300.00")
    await desk.pay(customer, invoice, "100.00")
    desk.clock.set(partial.deadline_time.ToDatetime(tzinfo=UTC))
    assert (await desk.evaluate()).judged == {"PARTIALLY_KEPT": 1}
    record = await desk.stub.GetPromiseRecord(pb.GetPromiseRecordRequest(customer=customer.name))
    assert (record.kept, record.partially_kept, record.broken) == (1, 1, 0)
    assert record.kept_rate_percent == "50.00"


async def test_a_second_broken_promise_escalates_to_the_team_lead_through_the_outbox(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    for _ in range(2):
        promise = await desk.promise(customer, invoice, on=desk.clock.today().isoformat())
        desk.clock.set(promise.deadline_time.ToDatetime(tzinfo=UTC))
        result = await desk.evaluate()
    assert result.escalated == 1  # level 2 reached (policy: escalate_from_level 2)
    record = await desk.stub.GetPromiseRecord(pb.GetPromiseRecordRequest(customer=customer.name))
    assert [(lv.invoice, lv.level) for lv in record.invoice_levels] == [(invoice.name, 2)]
    backlog = {b.destination: b.pending for b in await desk.parts.relay.backlog()}
    assert backlog == {"escalation": 1}


async def test_withdraw_and_cancel_end_an_open_promise_with_its_etag(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    promise = await desk.promise(customer, invoice)
    await expect_error(
        desk.stub.WithdrawPromise(pb.WithdrawPromiseRequest(name=promise.name, etag="stale")),
        grpc.StatusCode.ABORTED,
    )
    withdrawn = await desk.stub.WithdrawPromise(
        pb.WithdrawPromiseRequest(name=promise.name, etag=promise.etag)
    )
    assert withdrawn.state == State.WITHDRAWN
    await expect_error(
        desk.stub.CancelPromise(pb.CancelPromiseRequest(name=promise.name, etag=withdrawn.etag)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


async def test_the_worklist_ranks_by_contributions_that_sum_to_the_score(desk):
    big = await desk.customer("C-BIG")
    await desk.invoice(big, "INV-B", amount="15000.00", due="2026-01-01")  # 60 days: 31–60
    small = await desk.customer("C-SMALL")
    await desk.invoice(small, "INV-S", amount="500.00", due="2025-12-15")  # 77 days: 61–90
    listed = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    assert [i.customer for i in listed.items] == [big.name, small.name]
    for item in listed.items:
        assert item.score == sum(c.points for c in item.contributions)
    assert {c.rule for c in listed.items[0].contributions} >= {"BUCKET_31_60", "AMOUNT_OVER_10K"}
    assert {c.rule for c in listed.items[1].contributions} >= {"BUCKET_61_90"}
    assert listed.items[0].amount_to_collect.amount == "15000.00"
    # done for the day once contacted; a call-back brings it back at its time
    call_back = desk.clock.now() + timedelta(hours=3)
    await desk.stub.LogInteraction(_log(small, "CALL_BACK", call_back_time=_ts(call_back)))
    later = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    assert [i.customer for i in later.items] == [big.name]
    why = await desk.stub.ExplainWorklistAbsence(
        pb.ExplainWorklistAbsenceRequest(customer=small.name)
    )
    assert list(why.reasons) == ["CALL_BACK_SCHEDULED"] and not why.on_list
    desk.clock.set(call_back)
    back = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    assert back.items[0].customer == small.name and back.items[0].next_action == "CALL_BACK"
    await desk.stub.LogInteraction(_log(big, "NO_ANSWER"))
    done = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    assert big.name not in {i.customer for i in done.items} and done.done_today == 1


async def test_an_open_promise_takes_its_amount_out_of_what_is_to_collect(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    await desk.promise(customer, invoice, amount="400.00")
    item = (await desk.stub.ListWorklist(pb.ListWorklistRequest())).items[0]
    assert item.amount_to_collect.amount == "600.00"


async def test_the_invoice_the_customer_and_the_worklist_agree_on_what_is_to_collect(desk):
    """One open promise of 1,200 over three invoices, placed oldest due first and capped at each
    invoice's open − held; a payment since the promise leaves 1,100 of it to place."""
    customer = await desk.customer()
    oldest = await desk.invoice(customer, "INV-A", amount="1000.00", due="2026-01-10")
    held = await desk.invoice(customer, "INV-B", amount="500.00", due="2026-01-20")
    newest = await desk.invoice(customer, "INV-C", amount="300.00", due="2026-02-01")
    await desk.stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=held.name, dispute="disputes/1", amount=eur("200.00"), request_id="ev-1"
        )
    )
    made = await desk.stub.CreatePromise(
        pb.CreatePromiseRequest(
            parent=customer.name,
            promise_plan=pb.PromisePlan(
                promise=pb.PromiseToPay(
                    amount=eur("1200.00"),
                    promised_date="2026-03-20",
                    invoices=[newest.name, held.name, oldest.name],
                )
            ),
        )
    )
    assert made.promises[0].state == State.OPEN
    await desk.pay(customer, newest, "100.00")  # counts toward the promise: 1,100 left

    async def figures():
        invoices = await desk.stub.ListInvoices(
            pb.ListInvoicesRequest(filter=f"customer={customer.name}")
        )
        per_invoice = {i.external_number: i.collectible_amount.amount for i in invoices.invoices}
        one = await desk.stub.GetInvoice(pb.GetInvoiceRequest(name=held.name))
        assert one.collectible_amount.amount == per_invoice["INV-B"]
        balance = await desk.stub.GetCustomerBalance(
            pb.GetCustomerBalanceRequest(customer=customer.name)
        )
        item = (await desk.stub.ListWorklist(pb.ListWorklistRequest())).items[0]
        return per_invoice, balance.balances[0].collectible.amount, item.amount_to_collect.amount

    # A (oldest) takes 1,000, all it has; B 100 of its 300 not held; C (newest) nothing
    per_invoice, customer_figure, worklist_figure = await figures()
    assert per_invoice == {"INV-A": "0.00", "INV-B": "200.00", "INV-C": "200.00"}
    assert customer_figure == worklist_figure == "400.00"
    # withdrawn, the promise takes nothing out any more
    await desk.stub.WithdrawPromise(
        pb.WithdrawPromiseRequest(name=made.promises[0].name, etag=made.promises[0].etag)
    )
    per_invoice, customer_figure, worklist_figure = await figures()
    assert per_invoice == {"INV-A": "1000.00", "INV-B": "300.00", "INV-C": "200.00"}
    assert customer_figure == worklist_figure == "1500.00"


async def test_a_worklist_item_carries_what_a_collector_scans(desk):
    """Held, promised, broken promises, open disputes (one per dispute, however many invoices it
    holds), credit hold, last contact and call-back, from the same facts read as the ranking."""
    customer = await desk.customer()
    first = await desk.invoice(customer, "INV-A", amount="1000.00", due="2026-01-10")
    second = await desk.invoice(customer, "INV-B", amount="500.00", due="2026-01-20")
    for n, (invoice, dispute, amount) in enumerate(
        [
            (first, "disputes/1", "100.00"),
            (second, "disputes/1", "50.00"),
            (second, "disputes/2", "25.00"),
        ]
    ):
        await desk.stub.PlaceHold(
            pb.PlaceHoldRequest(
                invoice=invoice.name, dispute=dispute, amount=eur(amount), request_id=f"h-{n}"
            )
        )
    await desk.promise(customer, first, amount="100.00", on="2026-03-03")
    desk.clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))  # past the tolerance
    assert (await desk.evaluate()).judged == {"BROKEN": 1}
    await desk.promise(customer, first, amount="300.00", on="2026-03-20")
    item = (await desk.stub.ListWorklist(pb.ListWorklistRequest())).items[0]
    assert (item.amount_in_dispute.amount, item.promised_amount.amount) == ("175.00", "300.00")
    assert item.amount_to_collect.amount == "1025.00"  # 1,500 − 175 − 300
    assert (item.broken_promises, item.open_disputes, item.credit_hold) == (1, 2, False)
    assert not item.HasField("last_contact_time") and not item.HasField("call_back_time")
    call_back = desk.clock.now() + timedelta(hours=2)
    await desk.stub.LogInteraction(_log(customer, "CALL_BACK", call_back_time=_ts(call_back)))
    desk.clock.set(call_back)
    item = (await desk.stub.ListWorklist(pb.ListWorklistRequest())).items[0]
    assert item.last_contact_time.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert item.call_back_time.ToDatetime(tzinfo=UTC) == call_back
    assert item.next_action == "CALL_BACK"


async def test_simulation_writes_nothing_and_absence_is_explained(desk):
    customer = await desk.customer()
    await desk.invoice(customer)
    other = await desk.customer("C-2", assign=False)
    simulated = await desk.stub.SimulateStrategy(
        pb.SimulateStrategyRequest(
            rules=[
                pb.WorklistRule(code="ANY_OVERDUE", fact="oldest_overdue_days", min="1", points=7)
            ]
        )
    )
    assert simulated.strategy_version == 0 and simulated.items[0].score == 7
    active = await desk.stub.GetWorklistStrategy(
        pb.GetWorklistStrategyRequest(name="worklistStrategies/active")
    )
    assert active.version == 1
    why = await desk.stub.ExplainWorklistAbsence(
        pb.ExplainWorklistAbsenceRequest(customer=other.name)
    )
    assert list(why.reasons) == ["NOT_ASSIGNED"]


async def test_a_collector_sees_only_their_own_worklist(desk):
    await expect_error(
        desk.stub.ListWorklist(pb.ListWorklistRequest(collector="user:someone-else")),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_two_evaluators_judge_each_promise_once(postgres_backend, database_factory):
    """Two replicas' evaluators over the same due promises (row locks, SKIP LOCKED)."""
    import asyncio

    url = database_factory.new_url(postgres_backend, "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    base = accounts_settings(url)
    settings = type(base)(**{**vars(base), "workers_enabled": False})
    one, two = assemble(settings, clock=clock), assemble(settings, clock=clock)
    one.evaluator.batch = two.evaluator.batch = 7
    token = as_actor(CARL, "collector")
    try:
        async with running(one.process) as address, channel(address) as ch:
            desk = Desk(accounts_pb2_grpc.AccountsServiceStub(ch), clock, one)
            customer = await desk.customer()
            invoice = await desk.invoice(customer, amount="100000.00")
            made = [await desk.promise(customer, invoice, amount="10.00") for _ in range(60)]
            clock.set(made[0].deadline_time.ToDatetime(tzinfo=UTC))
            judged = {"one": 0, "two": 0}

            async def drain(name, parts):
                while True:
                    n = sum((await parts.evaluator.evaluate_once()).judged.values())
                    if n == 0:
                        return
                    judged[name] += n

            await asyncio.gather(drain("one", one), drain("two", two))
            assert judged["one"] + judged["two"] == 60
            states = {await desk.state(p) for p in made}
            assert states == {State.BROKEN}
            timeline = await desk.stub.ListCustomerTimeline(
                pb.ListCustomerTimelineRequest(customer=customer.name, page_size=1000)
            )
            broken = [e for e in timeline.entries if e.event == "BROKEN"]
            assert len(broken) == 60  # one judgement event each
    finally:
        reset_actor(token)
        await two.ctx.db.dispose()


async def _paid(desk, customer, invoice, amount):
    payment = await desk.stub.CreatePayment(
        pb.CreatePaymentRequest(
            payment=pb.Payment(
                customer=customer.name, amount=eur(amount), received_date="2026-03-02"
            )
        )
    )
    await desk.stub.AllocateFunds(
        pb.AllocateFundsRequest(
            source=payment.name,
            allocations=[pb.Allocation(invoice=invoice.name, amount=eur(amount))],
        )
    )
    return payment


def _reversal(payment, invoice, request_id):
    return pb.ReverseAllocationRequest(
        source=payment.name,
        invoice=invoice.name,
        reason_code="PAYMENT_RETURNED",
        request_id=request_id,
    )


async def test_a_reversed_allocation_reopens_a_promise_kept_early(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    promise = await desk.promise(customer, invoice, amount="400.00")
    payment = await _paid(desk, customer, invoice, "400.00")
    assert await desk.state(promise) == State.KEPT
    desk.clock.set(desk.clock.now() + timedelta(hours=2))  # the bank returns it that afternoon
    reversed_ = await desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-1"))
    assert (reversed_.reversed_amount.amount, reversed_.invoice.open_amount.amount) == (
        "400.00",
        "1000.00",
    )
    assert reversed_.source_unallocated_amount.amount == "400.00"
    # before its deadline the promise is OPEN again, and takes its amount out of the figure again
    assert await desk.state(promise) == State.OPEN
    assert reversed_.invoice.collectible_amount.amount == "600.00"
    again = await desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-1"))
    assert (again.reversed_amount.amount, again.invoice.open_amount.amount) == ("400.00", "1000.00")
    await expect_error(
        desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-2")),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    desk.clock.set(promise.deadline_time.ToDatetime(tzinfo=UTC))
    broken = []
    desk.parts.evaluator.metrics = type("Spy", (), {"promises_broken": staticmethod(broken.append)})
    await desk.evaluate()
    assert await desk.state(promise) == State.BROKEN
    assert broken == [1]  # settle.promises.broken
    timeline = await desk.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name, page_size=100)
    )
    assert [e.event for e in timeline.entries if e.kind == "ALLOCATION"] == ["REVERSAL", "PAYMENT"]


async def test_a_reversal_after_the_deadline_judges_a_kept_promise_anew(desk):
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    promise = await desk.promise(customer, invoice, amount="400.00")
    small = await _paid(desk, customer, invoice, "100.00")
    rest = await _paid(desk, customer, invoice, "300.00")
    assert await desk.state(promise) == State.KEPT  # paid in full, early
    desk.clock.set(promise.deadline_time.ToDatetime(tzinfo=UTC) + timedelta(days=3))
    await desk.stub.ReverseAllocation(_reversal(rest, invoice, "bank-return-rest"))
    judged = await desk.stub.GetPromise(pb.GetPromiseRequest(name=promise.name))
    assert (judged.state, judged.paid_amount.amount) == (State.PARTIALLY_KEPT, "100.00")
    await desk.stub.ReverseAllocation(_reversal(small, invoice, "bank-return-small"))
    assert await desk.state(promise) == State.BROKEN


async def test_gauges_count_promises_by_state_and_each_collectors_day(desk):
    from common.metrics import PROMISES, WORKLIST_COMPLETION, WORKLIST_SIZE
    from services.accounts.workers import gauges

    called = await desk.customer("C-CALLED")
    await desk.invoice(called, "INV-1")
    waiting = await desk.customer("C-WAITING")
    await desk.invoice(waiting, "INV-2")
    await desk.promise(waiting, await desk.invoice(waiting, "INV-3"), amount="100.00")
    await desk.stub.LogInteraction(_log(called, "NO_ANSWER"))
    readings = await gauges.read(desk.parts.ctx)
    by_state = {attrs["state"]: n for n, attrs in readings[PROMISES]}
    assert (by_state["OPEN"], by_state["BROKEN"]) == (1, 0)
    assert readings[WORKLIST_SIZE] == [(2, {"collector": CARL})]
    assert readings[WORKLIST_COMPLETION] == [(0.5, {"collector": CARL})]
