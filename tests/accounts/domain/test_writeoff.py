"""Write-off with four eyes: the transition table, approvals required by amount, segregation of
duties, posting exactly once against fresh balances, and reversal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.accounts.domain.writeoff import (
    TRANSITIONS,
    ApprovalLimit,
    ApprovalPolicy,
    Approver,
    EntryKind,
    InvoiceBalance,
    WriteOff,
    WriteOffLine,
    WriteOffState,
    approve,
    cancel,
    draft,
    edit,
    post,
    reject,
    reverse,
    submit,
)

S = WriteOffState
AT = datetime(2026, 6, 30, 9, tzinfo=UTC)
# EUR: collectors 1,000.00, team leads 10,000.00, the controller alone 100,000.00
POLICY = ApprovalPolicy(
    (
        ApprovalLimit("EUR", 100_000, role="COLLECTOR"),
        ApprovalLimit("EUR", 1_000_000, role="TEAM_LEAD"),
        ApprovalLimit("EUR", 10_000_000, user="controller"),
    )
)
BALANCES = {
    "inv-1": InvoiceBalance("inv-1", open_minor=2_000_000, held_minor=500_000),
    "inv-2": InvoiceBalance("inv-2", open_minor=30_000, held_minor=0),
}
ANNA = Approver("anna", frozenset({"COLLECTOR"}))
LEAD = Approver("lead", frozenset({"TEAM_LEAD"}))
LEAD2 = Approver("lead2", frozenset({"TEAM_LEAD"}))
CONTROLLER = Approver("controller")


def request(*amounts: tuple[str, int], requester: str = "carl") -> WriteOff:
    return draft(
        write_off_id="wo-1",
        customer_id="cust-1",
        currency="EUR",
        lines=[WriteOffLine(invoice, amount) for invoice, amount in amounts],
        balances=BALANCES,
        reason_code="SMALL_BALANCE",
        evidence=["https://dms.example.com/doc/7"],
        requester=requester,
    )


@pytest.mark.parametrize(
    ("amount", "required"),
    [(1, 1), (100_000, 1), (100_001, 2), (1_000_000, 2), (1_000_001, 3), (10_000_000, 3)],
)
def test_above_a_limit_a_second_approver_above_the_next_a_third(amount, required):
    assert POLICY.required_approvals(amount, "EUR") == required


def test_above_every_limit_or_in_a_currency_without_limits_no_one_may_approve():
    for amount, currency in [(10_000_001, "EUR"), (1, "USD")]:
        with pytest.raises(FailedPrecondition) as refused:
            POLICY.required_approvals(amount, currency)
        assert refused.value.reason == "ABOVE_APPROVAL_AUTHORITY"


def test_a_limit_names_a_role_or_a_user_and_a_positive_amount():
    for bad in [
        {"role": "A", "user": "b"},
        {},
        {"role": "A", "max_minor": 0},
    ]:
        with pytest.raises(InvalidArgument):
            ApprovalLimit(**({"currency": "EUR", "max_minor": 1} | bad))


def test_a_small_write_off_needs_one_approver_who_is_not_the_requester():
    pending = submit(request(("inv-2", 30_000)), POLICY)
    assert pending.state is S.PENDING_APPROVAL and pending.required_approvals == 1
    with pytest.raises(PermissionDenied) as denied:
        approve(pending, Approver("carl", frozenset({"TEAM_LEAD"})), POLICY, AT)
    assert denied.value.reason == "SEGREGATION_OF_DUTIES"
    approved = approve(pending, ANNA, POLICY, AT)
    assert approved.state is S.APPROVED and [a.user for a in approved.approvals] == ["anna"]


def test_above_the_first_limit_a_second_person_is_needed_and_an_editor_cannot_be_it():
    pending = submit(request(("inv-1", 500_000)), POLICY)  # EUR 5,000.00
    assert pending.required_approvals == 2
    once = approve(pending, LEAD, POLICY, AT)
    assert once.state is S.PENDING_APPROVAL
    with pytest.raises(FailedPrecondition, match="already approved"):
        approve(once, LEAD, POLICY, AT)
    assert approve(once, ANNA, POLICY, AT).state is S.APPROVED  # the lead's limit covers it

    edited = edit(pending, editor="lead", balances=BALANCES, reason_code="UNCOLLECTIBLE")
    assert edited.state is S.DRAFT and edited.approvals == ()
    again = submit(edited, POLICY)
    with pytest.raises(PermissionDenied) as denied:
        approve(again, LEAD, POLICY, AT)
    assert denied.value.reason == "SEGREGATION_OF_DUTIES"


def test_one_approval_must_come_from_someone_whose_limit_covers_the_amount():
    pending = submit(request(("inv-1", 500_000)), POLICY)
    once = approve(pending, ANNA, POLICY, AT)
    with pytest.raises(PermissionDenied) as denied:
        approve(once, Approver("bob", frozenset({"COLLECTOR"})), POLICY, AT)
    assert denied.value.reason == "NO_APPROVAL_AUTHORITY"
    assert approve(once, LEAD, POLICY, AT).state is S.APPROVED


def test_an_approver_without_a_limit_in_the_currency_counts_for_nothing():
    pending = submit(request(("inv-2", 30_000)), POLICY)
    with pytest.raises(PermissionDenied) as denied:
        approve(pending, Approver("sales", frozenset({"SALES"})), POLICY, AT)
    assert denied.value.reason == "NO_APPROVAL_AUTHORITY"


def test_three_approvals_above_the_second_limit():
    pending = submit(request(("inv-1", 1_500_000), ("inv-2", 30_000)), POLICY)
    assert pending.amount_minor == 1_530_000 and pending.required_approvals == 3
    step = approve(approve(pending, LEAD, POLICY, AT), LEAD2, POLICY, AT)
    assert step.state is S.PENDING_APPROVAL
    assert approve(step, CONTROLLER, POLICY, AT).state is S.APPROVED


def test_lines_are_checked_against_the_open_amount_not_disputed():
    with pytest.raises(InvalidArgument) as invalid:
        request(("inv-1", 1_500_001), ("inv-9", 1), ("inv-2", 0))
    assert [v.field for v in invalid.value.violations] == [
        "lines[0].amount",
        "lines[1].invoice",
        "lines[2].amount",
    ]
    with pytest.raises(InvalidArgument):
        request(("inv-2", 1), ("inv-2", 1))
    with pytest.raises(InvalidArgument):
        request()


def test_posting_produces_one_entry_per_invoice_once_and_reversal_the_opposite():
    approved = approve(submit(request(("inv-2", 30_000), ("inv-1", 10_000)), POLICY), ANNA,
                       POLICY, AT)  # fmt: skip
    posted, entries = post(approved, BALANCES, AT)
    assert posted.state is S.POSTED
    assert [(e.invoice_id, e.amount_minor, e.kind) for e in entries] == [
        ("inv-2", 30_000, EntryKind.WRITE_OFF),
        ("inv-1", 10_000, EntryKind.WRITE_OFF),
    ]
    assert len({e.entry_key for e in entries}) == 2
    with pytest.raises(FailedPrecondition):
        post(posted, BALANCES, AT)  # never twice

    reversed_, back = reverse(posted, "controller", AT)
    assert reversed_.state is S.REVERSED
    assert [(e.invoice_id, e.amount_minor, e.kind) for e in back] == [
        ("inv-2", -30_000, EntryKind.WRITE_OFF_REVERSAL),
        ("inv-1", -10_000, EntryKind.WRITE_OFF_REVERSAL),
    ]
    assert not {e.entry_key for e in back} & {e.entry_key for e in entries}
    with pytest.raises(FailedPrecondition):
        reverse(reversed_, "controller", AT)


def test_posting_refuses_when_a_balance_shrank_since_approval():
    approved = approve(submit(request(("inv-2", 30_000)), POLICY), ANNA, POLICY, AT)
    paid = {"inv-2": InvoiceBalance("inv-2", open_minor=20_000, held_minor=0)}
    with pytest.raises(FailedPrecondition) as refused:
        post(approved, paid, AT)
    assert refused.value.reason == "BALANCE_CHANGED"


def test_reject_and_cancel_end_it_and_the_requester_cannot_reject_their_own():
    pending = submit(request(("inv-2", 30_000)), POLICY)
    with pytest.raises(PermissionDenied):
        reject(pending, "carl", "no")
    rejected = reject(pending, "lead", "collect it")
    assert (rejected.state, rejected.decided_by) == (S.REJECTED, "lead")
    with pytest.raises(FailedPrecondition):
        submit(rejected, POLICY)
    assert cancel(request(("inv-2", 1)), "carl").state is S.CANCELLED
    with pytest.raises(FailedPrecondition):
        edit(rejected, editor="carl", balances=BALANCES)


def test_the_transition_table_every_state_and_only_these_moves():
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.POSTED] == {S.REVERSED}
    for terminal in (S.REJECTED, S.CANCELLED, S.REVERSED):
        assert not TRANSITIONS[terminal]


@pytest.mark.parametrize("state", list(S))
def test_cancel_and_reverse_follow_the_table_from_every_state(state):
    current = replace(request(("inv-2", 1)), state=state)
    for target, step in [
        (S.CANCELLED, lambda: cancel(current, "x")),
        (S.REVERSED, lambda: reverse(current, "x", AT)),
    ]:
        if target in TRANSITIONS[state]:
            step()
        else:
            with pytest.raises(FailedPrecondition):
                step()


@given(st.integers(1, 10_000_000))
def test_property_required_approvals_grow_with_the_amount(amount):
    assert POLICY.required_approvals(amount, "EUR") <= POLICY.required_approvals(
        min(amount + 1, 10_000_000), "EUR"
    )
