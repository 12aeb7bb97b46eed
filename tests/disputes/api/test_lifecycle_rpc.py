"""A case from intake to close through the real servers, with its money visible in accounts."""

from __future__ import annotations

from datetime import timedelta

from settle.accounts.v1 import accounts_pb2 as apb
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s

D = pb.Dispute


async def _invoice_now(system, name):
    return await system.accounts.GetInvoice(apb.GetInvoiceRequest(name=name))


async def _history(system, case):
    reply = await system.disputes.ListDisputeHistory(pb.ListDisputeHistoryRequest(parent=case.name))
    return list(reply.entries)


def _clock(case, kind):
    return next(c for c in case.clocks if c.kind == kind)


async def test_case_opened_worked_paused_resolved_and_money_shows_in_accounts(system):
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-1")
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(
                c.name,
                s.partial(inv.name, "300.00"),
                external_ref="DED-77",
                first_note="customer says the price was 10 % lower",
            )
        )
    )
    assert (case.status, case.currency_code, case.amounts.still_disputed.amount) == (
        D.NEW,
        "EUR",
        "300.00",
    )
    assert {c.kind for c in case.clocks} == {pb.ACKNOWLEDGE, pb.RESOLVE}
    # PRICING resolves in 5 business days on the default Mon–Fri 09–17 UTC calendar.
    assert _clock(case, pb.RESOLVE).target_duration.ToTimedelta() == timedelta(hours=40)
    assert _clock(case, pb.RESOLVE).due_time.ToDatetime().isoformat() == "2026-03-06T17:00:00"
    assert await system.relay() == 1
    held = await _invoice_now(system, inv.name)
    assert (held.held_amount.amount, held.collectible_amount.amount) == ("300.00", "700.00")

    case = await system.disputes.AssignDispute(
        pb.AssignDisputeRequest(
            name=case.name, etag=case.etag, assignee="user:alice", comment="yours"
        )
    )
    case = await system.disputes.StartDispute(
        pb.StartDisputeRequest(name=case.name, etag=case.etag)
    )
    assert case.status == D.IN_PROGRESS and _clock(case, pb.ACKNOWLEDGE).state == pb.SlaClock.MET

    system.clock.advance(timedelta(hours=2))
    case = await system.disputes.PauseDispute(
        pb.PauseDisputeRequest(
            name=case.name,
            etag=case.etag,
            reason=pb.PENDING_CUSTOMER,
            comment="asked for the contract",
        )
    )
    resolve = _clock(case, pb.RESOLVE)
    assert (case.status, case.sla_state, resolve.state) == (
        D.PENDING_CUSTOMER,
        pb.PAUSED,
        pb.SlaClock.PAUSED,
    )
    assert not resolve.HasField(
        "due_time"
    ) and resolve.business_time_spent.ToTimedelta() == timedelta(hours=2)

    system.clock.advance(timedelta(days=3))  # paused time does not count
    case = await system.disputes.ResumeDispute(
        pb.ResumeDisputeRequest(name=case.name, etag=case.etag)
    )
    resolve = _clock(case, pb.RESOLVE)
    assert resolve.business_time_spent.ToTimedelta() == timedelta(hours=2)
    assert resolve.business_time_remaining.ToTimedelta() == timedelta(hours=38)

    case = await system.disputes.ResolveDispute(
        pb.ResolveDisputeRequest(
            name=case.name,
            etag=case.etag,
            root_cause_code="SALES_PRICING_ERROR",
            outcome=pb.PARTIAL,
            comment="agreed price confirmed by sales",
            decisions=[pb.ItemDecision(invoice=inv.name, credit_amount=s.eur("100.00"))],
        )
    )
    assert (case.status, case.outcome, case.root_cause_code) == (
        D.RESOLVED,
        pb.PARTIAL,
        "SALES_PRICING_ERROR",
    )
    item = case.items[0]
    assert (
        item.still_disputed_amount.amount,
        item.credited_amount.amount,
        item.paid_amount.amount,
    ) == ("0.00", "100.00", "200.00")
    assert _clock(case, pb.RESOLVE).state == pb.SlaClock.MET
    assert await system.relay() == 2  # the credit and the release of the rest
    after = await _invoice_now(system, inv.name)
    assert (
        after.open_amount.amount,
        after.held_amount.amount,
        after.collectible_amount.amount,
    ) == ("900.00", "0.00", "900.00")
    notes = await system.accounts.ListCreditNotes(apb.ListCreditNotesRequest(customer=c.name))
    assert [n.amount.amount for n in notes.credit_notes] == ["100.00"]

    case = await system.disputes.CloseDispute(
        pb.CloseDisputeRequest(name=case.name, etag=case.etag)
    )
    assert case.status == D.CLOSED
    entries = await _history(system, case)
    kinds = [e.kind for e in entries]
    assert kinds[0] == "CREATED" and kinds.count("STATUS_CHANGED") == 6
    for kind in ("CLOCK_STARTED", "CLOCK_MET", "CLOCK_PAUSED", "CLOCK_RESUMED"):
        assert kind in kinds
    assigned = next(e for e in entries if e.to_status == D.OPEN)
    assert (assigned.from_status, assigned.details["assignee"], assigned.comment) == (
        D.NEW,
        "user:alice",
        "yours",
    )
    versions = [e.version for e in entries]
    assert versions == sorted(versions) and versions[-1] == 7


async def test_lines_withdraw_and_void_release_their_holds(system):
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-2", "1000.00", lines=("800.00", "200.00"))
    by_line = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(
                c.name, pb.DisputedItem(invoice=inv.name, line_numbers=[2]), reason="FREIGHT"
            )
        )
    )
    assert by_line.items[0].original_amount.amount == "200.00"
    assert list(by_line.items[0].line_numbers) == [2]
    other = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.partial(inv.name, "500.00")))
    )
    await system.relay()
    assert (await _invoice_now(system, inv.name)).held_amount.amount == "700.00"

    withdrawn = await system.disputes.WithdrawDispute(
        pb.WithdrawDisputeRequest(
            name=by_line.name, etag=by_line.etag, comment="customer found the freight agreement"
        )
    )
    voided = await system.disputes.VoidDispute(
        pb.VoidDisputeRequest(name=other.name, comment="opened on the wrong customer")
    )
    assert (withdrawn.status, withdrawn.outcome, voided.status) == (
        D.WITHDRAWN,
        pb.WITHDRAWN,
        D.VOIDED,
    )
    for case in (withdrawn, voided):
        assert case.amounts.still_disputed.amount == "0.00"
        assert case.amounts.paid.amount == case.amounts.original.amount
        assert {c.state for c in case.clocks} == {pb.SlaClock.CANCELLED}
    await system.relay()
    assert (await _invoice_now(system, inv.name)).held_amount.amount == "0.00"


async def test_written_off_and_reopened_case(system):
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-3", "50.00", lines=())
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, s.whole(inv.name), reason="DAMAGED", assignee="user:bob")
        )
    )
    assert case.status == D.OPEN and case.amounts.original.amount == "50.00"
    case = await system.disputes.ResolveDispute(
        pb.ResolveDisputeRequest(
            name=case.name, root_cause_code="CARRIER_DAMAGE", outcome=pb.WRITTEN_OFF
        )
    )
    await system.relay()
    invoice = await _invoice_now(system, inv.name)
    assert (invoice.open_amount.amount, invoice.status) == ("0.00", apb.CLOSED)
    reopened = await system.disputes.ReopenDispute(
        pb.ReopenDisputeRequest(name=case.name, etag=case.etag, comment="carrier refused the claim")
    )
    assert reopened.status == D.REOPENED and reopened.outcome == pb.OUTCOME_UNSPECIFIED
    resolve = _clock(reopened, pb.RESOLVE)
    assert resolve.state == pb.SlaClock.RUNNING
    assert reopened.amounts.written_off.amount == "50.00"  # money already moved stays moved


async def test_escalation_goes_out_and_its_answer_resumes_the_case(system):
    c = await s.customer(system.accounts, bankruptcy=True)
    inv = await s.invoice(system.accounts, c.name, "INV-4")
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, s.whole(inv.name), assignee="user:alice")
        )
    )
    case = await system.disputes.EscalateDispute(
        pb.EscalateDisputeRequest(
            name=case.name,
            etag=case.etag,
            team="SALES",
            reason_code="PRICING_AUTHORITY",
            summary="need the agreed price",
        )
    )
    assert case.status == D.PENDING_INTERNAL
    assert _clock(case, pb.RESOLVE).state == pb.SlaClock.RUNNING  # PENDING_INTERNAL does not pause
    await system.relay()
    (raised,) = system.escalation.received
    assert (raised.subject, raised.reason_code, raised.raised_by) == (
        case.name,
        "PRICING_AUTHORITY",
        "service:tests",
    )
    assert raised.request_id and raised.amount_at_stake.amount == "1000.00"
    assert (
        raised.attributes["dispute_reason"] == "PRICING"
        and raised.attributes["bankruptcy"] == "true"
    )
    assert raised.attributes["team"] == "SALES" and raised.attributes["customer"] == c.name

    answer = pb.ApplyEscalationAnswerRequest(
        dispute=case.name,
        escalation="escalations/e1",
        team="SALES",
        kind="RESOLVED",
        outcome_code="PRICE_CONFIRMED",
        note="price list B applies",
        answered_by="user:sam",
        evidence_links=["https://crm.example/deal/1"],
        request_id="event-1",
    )
    first = await system.disputes.ApplyEscalationAnswer(answer)
    again = await system.disputes.ApplyEscalationAnswer(answer)  # delivered twice: applied once
    assert first.status == again.status == D.IN_PROGRESS and first.etag == again.etag
    assert [e.uri for e in again.evidence] == ["https://crm.example/deal/1"]
    kinds = [e.kind for e in await _history(system, case)]
    assert kinds.count("ESCALATION_ANSWERED") == 1
    # who recorded it (the escalation service's identity) and who answered (the person)
    (answered,) = [e for e in await _history(system, case) if e.kind == "ESCALATION_ANSWERED"]
    assert (answered.actor, answered.details["answered_by"]) == ("service:tests", "user:sam")


async def test_an_answer_to_a_case_no_longer_waiting_shows_the_service_and_the_person(system):
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-9")
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name)))
    )
    answer = pb.ApplyEscalationAnswerRequest(
        dispute=case.name,
        escalation="escalations/e9",
        team="GBS",
        kind="HANDED_BACK",
        note="not ours",
        answered_by="user:gina",
        request_id="event-9",
    )
    await system.disputes.ApplyEscalationAnswer(answer)  # the case is NEW: recorded, not moved
    (answered,) = [e for e in await _history(system, case) if e.kind == "ESCALATION_ANSWERED"]
    assert (answered.actor, answered.details["answered_by"]) == ("service:tests", "user:gina")
    note = (await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))).notes[0]
    assert note.author == "user:gina"  # the note is the person's


async def test_notes_evidence_and_priority_change_keep_time_spent(system):
    c = await s.customer(system.accounts)
    inv = await s.invoice(system.accounts, c.name, "INV-5")
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name), reason="QTY_SHORT"))
    )
    assert _clock(case, pb.RESOLVE).target_duration.ToTimedelta() == timedelta(hours=80)
    await system.disputes.AddNote(
        pb.AddNoteRequest(parent=case.name, note=pb.Note(text="called AP"))
    )
    await system.disputes.AddEvidence(
        pb.AddEvidenceRequest(
            parent=case.name,
            evidence=pb.Evidence(uri="https://dms.example/pod/1", description="POD"),
        )
    )
    await system.disputes.CreateSlaPolicy(
        pb.CreateSlaPolicyRequest(
            sla_policy_id="resolve-critical",
            sla_policy=pb.SlaPolicy(
                clock=pb.RESOLVE,
                target=pb.SlaTarget(value=16, unit=pb.BUSINESS_HOURS),
                priorities=[pb.CRITICAL],
                precedence=20,
                active=True,
            ),
        )
    )
    system.clock.advance(timedelta(hours=3))
    case = await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))
    updated = await system.disputes.UpdateDispute(
        pb.UpdateDisputeRequest(
            dispute=pb.Dispute(name=case.name, etag=case.etag, priority=pb.CRITICAL),
            update_mask="priority",
        )
    )
    resolve = _clock(updated, pb.RESOLVE)
    assert resolve.policy == "slaPolicies/resolve-critical"
    assert resolve.business_time_spent.ToTimedelta() == timedelta(hours=3)
    assert resolve.business_time_remaining.ToTimedelta() == timedelta(hours=13)
    assert (
        updated.priority == pb.CRITICAL and len(updated.notes) == 1 and len(updated.evidence) == 1
    )
    kinds = [e.kind for e in await _history(system, case)]
    assert {"NOTE_ADDED", "EVIDENCE_ADDED", "UPDATED", "CLOCK_RETARGETED"} <= set(kinds)
