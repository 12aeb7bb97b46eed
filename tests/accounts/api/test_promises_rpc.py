"""Promises to pay through a real gRPC server, on SQLite and PostgreSQL: their judgement at the
deadline, escalation, withdrawal, concurrent evaluators, reversals and gauges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from sqlalchemy import select

from common.actor import reset_actor
from common.clock import ManualClock
from services.accounts.data.models import OutboxEventRow
from services.accounts.outbound import escalations
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.escalation.v1 import escalation_pb2
from tests.accounts.api.collections_support import (
    CARL,
    Desk,
    State,
    _log,
    _paid,
    _reversal,
    eur,
)
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import as_actor, channel, expect_error, running


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


async def test_a_promise_rejudged_broken_after_a_reversal_escalates_as_at_its_deadline(desk):
    """The invoice's first promise, broken at its deadline, is level 1 (the policy escalates from
    2); the second, kept by a payment the bank returns after its deadline, is judged BROKEN anew:
    level 2, so the team lead is told through the outbox, once, as the evaluator would."""
    customer = await desk.customer()
    invoice = await desk.invoice(customer)
    first = await desk.promise(customer, invoice, on=desk.clock.today().isoformat())
    desk.clock.set(first.deadline_time.ToDatetime(tzinfo=UTC))
    assert (await desk.evaluate()).escalated == 0
    second = await desk.promise(customer, invoice, amount="400.00", on="2026-03-09")
    payment = await _paid(desk, customer, invoice, "400.00")
    assert await desk.state(second) == State.KEPT
    desk.clock.set(second.deadline_time.ToDatetime(tzinfo=UTC) + timedelta(days=1))
    await desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-late"))
    await desk.stub.ReverseAllocation(_reversal(payment, invoice, "bank-return-late"))  # a retry
    assert await desk.state(second) == State.BROKEN
    async with desk.parts.ctx.db.reading_connection() as conn:
        (payload,) = (
            await conn.execute(select(OutboxEventRow.payload).where(
                OutboxEventRow.method == escalations.METHOD))
        ).scalars().all()  # fmt: skip
    raised = escalation_pb2.RaiseEscalationRequest.FromString(payload)
    assert (raised.subject, raised.team) == (customer.name, escalation_pb2.TEAM_LEAD)
    assert raised.reason_code == "BROKEN_PROMISE" and raised.attributes["promise_level"] == "2"
    assert raised.trigger_event_id == second.name and raised.amount_at_stake == eur("400.00")
    record = await desk.stub.GetPromiseRecord(pb.GetPromiseRecordRequest(customer=customer.name))
    assert [(lv.invoice, lv.level) for lv in record.invoice_levels] == [(invoice.name, 2)]


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
