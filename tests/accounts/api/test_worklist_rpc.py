"""The collector's worklist through a real gRPC server, on SQLite and PostgreSQL: ranking, what is
to collect, what an item carries, simulation and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc

from common.actor import reset_actor
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.collections_support import (
    LENA,
    State,
    _log,
    _ts,
    eur,
)
from tests.support.rpc import as_actor, expect_error


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


async def test_a_rule_bound_must_be_a_finite_decimal_the_database_can_compare(desk):
    """NaN and infinities are decimals to Python, not bounds; beyond ±10^14 a bound in the
    minor units of any currency would not fit the database's whole numbers."""
    rules = [
        pb.WorklistRule(code="A", fact="overdue_amount", min="NaN", points=1),
        pb.WorklistRule(code="B", fact="overdue_amount", max="Infinity", points=1),
        pb.WorklistRule(code="C", fact="overdue_amount", min="100000000000000.01", points=1),
        pb.WorklistRule(code="D", fact="overdue_amount", min="-1e15", points=1),
        pb.WorklistRule(code="E", fact="overdue_amount", min="99999999999999.9999", points=1),
    ]
    await expect_error(
        desk.stub.SimulateStrategy(pb.SimulateStrategyRequest(rules=rules)),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("rules[0].min", "rules[1].max", "rules[2].min", "rules[3].min"),
    )


async def test_pages_of_the_database_s_ranking_follow_each_other(desk):
    """Page tokens continue where the last page ended; every page carries the whole list's
    size and the strategy's scores, each the sum of its contributions."""
    for n in range(5):
        customer = await desk.customer(f"C-{n}")
        await desk.invoice(customer, f"INV-{n}", amount=f"{1000 + n * 100}.00")
    first = await desk.stub.ListWorklist(pb.ListWorklistRequest(page_size=2))
    second = await desk.stub.ListWorklist(
        pb.ListWorklistRequest(page_size=2, page_token=first.next_page_token)
    )
    third = await desk.stub.ListWorklist(
        pb.ListWorklistRequest(page_size=2, page_token=second.next_page_token)
    )
    whole = await desk.stub.ListWorklist(pb.ListWorklistRequest())
    paged = [*first.items, *second.items, *third.items]
    assert [i.customer for i in paged] == [i.customer for i in whole.items]
    assert [i.rank for i in paged] == [1, 2, 3, 4, 5]
    assert {first.total_size, second.total_size, third.total_size} == {5}
    assert third.next_page_token == "" and len(third.items) == 1
    # the same score, the larger amount to collect first
    amounts = [i.amount_to_collect.amount for i in whole.items]
    assert amounts == ["1400.00", "1300.00", "1200.00", "1100.00", "1000.00"]
    for item in whole.items:
        assert item.score == sum(c.points for c in item.contributions) > 0
    # a team lead's scopes: the team's book, and every team's
    for team in ("DACH", ""):
        token = as_actor(LENA, "team_lead", team=team)
        try:
            led = await desk.stub.ListWorklist(pb.ListWorklistRequest())
        finally:
            reset_actor(token)
        assert led.items == whole.items and led.total_size == 5
