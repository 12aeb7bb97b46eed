"""Interactions and their outcome codes through a real gRPC server, on SQLite and PostgreSQL: the
outcome catalogue, promise-to-pay outcomes and the merged timeline."""

from __future__ import annotations

from datetime import timedelta

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.collections_support import (
    CARL,
    State,
    _log,
    eur,
)
from tests.support.rpc import expect_error


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
