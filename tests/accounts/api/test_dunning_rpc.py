"""Dunning runs through the RPCs on both databases: a notice chases exactly the remaining amount,
once; counts settle a run; a dunning block; stop credit."""

from __future__ import annotations

from datetime import timedelta

import grpc
from sqlalchemy import select

from common.actor import reset_actor
from services.accounts.data.models import OutboxEventRow
from services.accounts.outbound.escalations import METHOD
from settle.accounts.v1 import accounts_pb2 as pb
from settle.escalation.v1 import escalation_pb2
from tests.accounts.api.dunning_support import LENA, eur
from tests.support.rpc import as_actor, expect_error


async def test_a_notice_chases_exactly_the_remaining_amount_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)

    run = await dunning.run(customer)
    assert run.evaluated_customers == 1 and run.notices == 1
    (decision,) = run.decisions
    assert decision.outcome == "NOTICE" and decision.level == 4
    assert decision.total == eur("200.00")
    assert await dunning.send() == 1

    (message,) = dunning.inbox.messages()
    key = f"dun.{customer.name.removeprefix('customers/')}.EUR.4.20260302"
    assert message["Message-ID"].strip() == f"<{key}@settle.example.com>"  # long: folded
    assert message["To"] == "ann@acme.example"
    text = message.get_body(("plain",)).get_content()
    assert "€200.00" in text and "€300.00" in text and "€500.00" in text
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 1 and notice.key == key
    assert notice.total == eur("200.00")
    (line,) = notice.lines
    assert (line.open, line.in_dispute, line.promised, line.due_now) == (
        eur("1000.00"), eur("300.00"), eur("500.00"), eur("200.00"),
    )  # fmt: skip

    again = await dunning.run(customer)  # the same day: already evaluated
    assert again.evaluated_customers == 0 and again.notices == 0
    forced = await dunning.run(customer, reevaluate=True)
    assert forced.evaluated_customers == 1 and forced.notices == 0
    assert forced.decisions[0].outcome == "NO_NEW_LEVEL"
    assert await dunning.send() == 0
    assert len(dunning.inbox.envelopes) == 1
    assert len(await dunning.notices(customer)) == 1
    timeline = await dunning.stub.ListCustomerTimeline(
        pb.ListCustomerTimelineRequest(customer=customer.name)
    )
    (entry,) = [e for e in timeline.entries if e.kind == "NOTICE"]
    assert (entry.subject, entry.event, entry.amount) == (notice.name, "FIRM", eur("200.00"))


async def test_without_a_promise_the_run_settles_by_counts_until_an_invoice_reaches_a_new_level(
    dunning,
):
    """The run's SQL counts (data/dunning_batch.chase_counts) decide customers without reading
    their books: an invoice already chased at its level is NO_NEW_LEVEL, one not yet due is
    NOTHING_DUNNABLE; the day an invoice reaches the next level it is chased again."""
    customer = await dunning.customer()
    for number, due in (("INV-OLD", "2026-01-30"), ("INV-NEW", "2026-04-30")):
        await dunning.stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer.name, external_number=number, invoice_date="2025-12-31",
                    due_date=due, amount=eur("400.00"),
                )
            )
        )  # fmt: skip
    first = await dunning.run(customer)
    assert (first.decisions[0].outcome, first.decisions[0].level) == ("NOTICE", 4)  # 31 days
    dunning.clock.advance(timedelta(days=10))  # 41 days: still FIRM
    quiet = await dunning.run(customer)
    assert quiet.decisions[0].outcome == "NO_NEW_LEVEL" and quiet.notices == 0
    dunning.clock.advance(timedelta(days=4))  # 45 days: FINAL
    final = await dunning.run(customer)
    assert (final.decisions[0].outcome, final.decisions[0].level) == ("NOTICE", 5)
    other = await dunning.stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=pb.Customer(
                display_name="Later Ltd", external_ref="C-2", currency_code="EUR",
                country_code="DE", time_zone="Europe/Berlin",
            )
        )
    )  # fmt: skip
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=other.name, external_number="INV-L", invoice_date="2026-03-01",
                due_date="2026-06-30", amount=eur("90.00"),
            )
        )
    )  # fmt: skip
    (decision,) = (await dunning.run(other)).decisions
    assert decision.outcome == "NOTHING_DUNNABLE"


async def test_a_team_lead_sets_and_lifts_a_dunning_block(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)

    async def block(on: bool, etag: str) -> pb.Customer:
        return await dunning.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(name=customer.name, etag=etag, dunning_block=on),
                update_mask="dunning_block",
            )
        )

    await expect_error(block(True, customer.etag), grpc.StatusCode.PERMISSION_DENIED)
    token = as_actor(LENA, "team_lead", team="DACH")
    try:
        blocked = await block(True, customer.etag)
        assert blocked.dunning_block
        run = await dunning.run(customer)
        assert run.notices == 0 and run.decisions[0].outcome == "CUSTOMER_FLAGGED"
        lifted = await block(False, blocked.etag)
        assert not lifted.dunning_block
        assert (await dunning.run(customer, reevaluate=True)).notices == 1
        handed = await dunning.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(name=customer.name, etag=lifted.etag, bankruptcy=True),
                update_mask="bankruptcy",
            )
        )
        assert handed.dunning_block
        await expect_error(  # the legal case lifts it when Legal closes the case
            block(False, handed.etag),
            grpc.StatusCode.FAILED_PRECONDITION,
            reason="LEGAL_CASE_ACTIVE",
        )
    finally:
        reset_actor(token)


async def test_stop_credit_is_a_phone_task_on_the_worklist_a_credit_hold_and_the_team_lead(
    dunning,
):
    customer = await dunning.customer()
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="INV-9",
                invoice_date="2025-11-30",
                due_date="2025-12-31",  # 61 days before 2026-03-02: STOP_CREDIT
                amount=eur("750.00"),
            )
        )
    )
    run = await dunning.run(customer)
    assert run.decisions[0].level == 6
    (notice,) = await dunning.notices(customer)
    assert notice.channel == "PHONE_TASK" and notice.state == pb.Notice.SENT
    assert await dunning.send() == 0  # a phone task is not mailed
    got = await dunning.stub.GetCustomer(pb.GetCustomerRequest(name=customer.name))
    assert got.credit_hold
    (item,) = (await dunning.stub.ListWorklist(pb.ListWorklistRequest())).items
    assert item.next_action == "DUNNING_CALL"
    async with dunning.parts.ctx.db.reading_connection() as conn:
        (payload,) = (
            await conn.execute(select(OutboxEventRow.payload).where(
                OutboxEventRow.method == METHOD))
        ).scalars().all()  # fmt: skip
    raised = escalation_pb2.RaiseEscalationRequest.FromString(payload)
    assert raised.team == escalation_pb2.TEAM_LEAD and raised.subject == customer.name
    assert raised.reason_code == "DUNNING_STOP_CREDIT" and raised.amount_at_stake == eur("750.00")

    dunning.clock.advance(timedelta(minutes=10))
    await dunning.stub.LogInteraction(
        pb.LogInteractionRequest(
            parent=customer.name,
            interaction=pb.Interaction(
                channel=pb.Interaction.PHONE, outcome_code="LEFT_MESSAGE", contact_index=1
            ),
        )
    )
    explained = await dunning.stub.ExplainWorklistAbsence(
        pb.ExplainWorklistAbsenceRequest(customer=customer.name)
    )
    assert explained.item.next_action != "DUNNING_CALL"  # the task is done by the call
