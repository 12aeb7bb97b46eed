"""Wrong requests get the right status and change nothing; retries create one case."""

from __future__ import annotations

import grpc

from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s
from tests.support.rpc import expect_error

C = grpc.StatusCode
D = pb.Dispute


async def _setup(system, ref="C-1", number="INV-1"):
    c = await s.customer(system.accounts, ref)
    inv = await s.invoice(system.accounts, c.name, number)
    return c, inv


async def _unchanged(system, case):
    now = await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))
    assert (now.etag, now.status, now.amounts) == (case.etag, case.status, case.amounts)
    return now


async def _count(system) -> int:
    return len((await system.disputes.ListDisputes(pb.ListDisputesRequest())).disputes)


async def test_retry_with_the_same_request_id_opens_one_case(system):
    c, inv = await _setup(system)
    request = pb.CreateDisputeRequest(
        dispute=s.new_case(c.name, s.partial(inv.name, "10.00")), request_id="req-7"
    )
    first = await system.disputes.CreateDispute(request)
    second = await system.disputes.CreateDispute(request)
    assert first.name == second.name and await _count(system) == 1
    assert await system.outbox_count(method="/settle.accounts.v1.AccountsService/PlaceHold") == 1
    other = pb.CreateDisputeRequest(
        dispute=s.new_case(c.name, s.partial(inv.name, "11.00")), request_id="req-7"
    )
    await expect_error(system.disputes.CreateDispute(other), C.INVALID_ARGUMENT, field="request_id")


async def test_over_disputing_an_invoice_is_refused_even_before_the_hold_arrives(system):
    c, inv = await _setup(system)
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.partial(inv.name, "1000.01")))
        ),
        C.FAILED_PRECONDITION,
        reason="EXCEEDS_COLLECTIBLE",
    )
    await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.partial(inv.name, "600.00")))
    )
    # accounts has not received the first hold yet: this service counts it anyway
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.partial(inv.name, "400.01")))
        ),
        C.FAILED_PRECONDITION,
        reason="EXCEEDS_COLLECTIBLE",
    )
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name)))
        ),
        C.FAILED_PRECONDITION,
        reason="EXCEEDS_COLLECTIBLE",
    )
    assert await _count(system) == 1
    assert await system.outbox_count() == 1


async def test_malformed_and_inconsistent_intake_names_the_fields(system):
    c, inv = await _setup(system)
    other_c, other_inv = await _setup(system, "C-2", "INV-9")
    bad = pb.Dispute(
        customer="customers/nope",
        title="",
        reason_code="not a code",
        priority=99,
        items=[
            pb.DisputedItem(invoice="invoice/1", amount=pb.DisputedItem().amount),
            pb.DisputedItem(invoice=inv.name, amount=s.eur("1.234"), line_numbers=[0]),
        ],
    )
    # the rules the protos declare first (common/contract.py), every one at once ...
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=bad)),
        C.INVALID_ARGUMENT,
        fields=[
            "dispute.customer",
            "dispute.title",
            "dispute.reason_code",
            "dispute.priority",
            "dispute.items[0].invoice",
            "dispute.items[1].line_numbers[0]",
        ],
    )
    # ... then the service's own: EUR has two decimals
    well_formed = s.new_case(
        c.name, pb.DisputedItem(invoice=inv.name, amount=s.eur("1.234"), line_numbers=[1])
    )
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=well_formed)),
        C.INVALID_ARGUMENT,
        fields=["dispute.items[0].amount.amount"],
    )
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=s.new_case(c.name))),
        C.INVALID_ARGUMENT,
        field="dispute.items",
    )
    await expect_error(  # the invoice belongs to someone else
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(other_inv.name)))
        ),
        C.INVALID_ARGUMENT,
        field="dispute.items[0].invoice",
    )
    missing = "invoices/" + "0" * 32
    await expect_error(  # accounts says NOT_FOUND: our field is named
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(missing)))
        ),
        C.INVALID_ARGUMENT,
        field="dispute.items[0].invoice",
    )
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(
                dispute=s.new_case(c.name, pb.DisputedItem(invoice=inv.name, line_numbers=[7]))
            )
        ),
        C.INVALID_ARGUMENT,
        field="dispute.items[0].line_numbers",
    )
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(
                dispute=s.new_case(
                    c.name,
                    pb.DisputedItem(
                        invoice=inv.name, amount=pb.DisputedItem().amount, line_numbers=[1]
                    ),
                    reason="OTHER",
                )
            )
        ),
        C.INVALID_ARGUMENT,
        field="dispute.first_note",
    )
    usd = pb.DisputedItem(invoice=inv.name, amount=s.Money(currency_code="USD", amount="5.00"))
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=s.new_case(c.name, usd))),
        C.INVALID_ARGUMENT,
        field="dispute.items[0].amount.currency_code",
    )
    assert await _count(system) == 0 and await system.outbox_count() == 0
    assert other_c.name != c.name


async def test_invalid_transitions_stale_etags_and_missing_root_cause_change_nothing(system):
    c, inv = await _setup(system)
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.partial(inv.name, "100.00")))
    )
    await expect_error(
        system.disputes.CloseDispute(pb.CloseDisputeRequest(name=case.name)),
        C.FAILED_PRECONDITION,
        reason="INVALID_TRANSITION",
    )
    await expect_error(
        system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name)),
        C.FAILED_PRECONDITION,
        reason="INVALID_TRANSITION",
    )
    await expect_error(
        system.disputes.ResumeDispute(pb.ResumeDisputeRequest(name=case.name)),
        C.FAILED_PRECONDITION,
        reason="INVALID_TRANSITION",
    )
    await _unchanged(system, case)
    assigned = await system.disputes.AssignDispute(
        pb.AssignDisputeRequest(name=case.name, etag=case.etag, assignee="user:alice")
    )
    await expect_error(  # the etag of the version before the assignment
        system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name, etag=case.etag)),
        C.ABORTED,
        reason="STALE_ETAG",
    )
    await expect_error(
        system.disputes.ResolveDispute(
            pb.ResolveDisputeRequest(name=case.name, outcome=pb.CREDITED)
        ),
        C.INVALID_ARGUMENT,
        field="root_cause_code",
    )
    await expect_error(
        system.disputes.ResolveDispute(
            pb.ResolveDisputeRequest(name=case.name, root_cause_code="BILLING_ERROR")
        ),
        C.INVALID_ARGUMENT,
        field="outcome",
    )
    await expect_error(
        system.disputes.ResolveDispute(
            pb.ResolveDisputeRequest(
                name=case.name, root_cause_code="NO_SUCH_CAUSE", outcome=pb.CREDITED
            )
        ),
        C.INVALID_ARGUMENT,
        field="root_cause_code",
    )
    await expect_error(
        system.disputes.ResolveDispute(
            pb.ResolveDisputeRequest(
                name=case.name,
                root_cause_code="BILLING_ERROR",
                outcome=pb.PARTIAL,
                decisions=[pb.ItemDecision(invoice=inv.name, credit_amount=s.eur("100.01"))],
            )
        ),
        C.INVALID_ARGUMENT,
        field="decisions[0]",
    )
    await expect_error(
        system.disputes.PauseDispute(pb.PauseDisputeRequest(name=case.name)),
        C.INVALID_ARGUMENT,
        field="reason",
    )
    await expect_error(
        system.disputes.WithdrawDispute(pb.WithdrawDisputeRequest(name=case.name)),
        C.INVALID_ARGUMENT,
        field="comment",
    )
    await expect_error(
        system.disputes.GetDispute(pb.GetDisputeRequest(name="disputes/x")),
        C.INVALID_ARGUMENT,
        field="name",
    )
    await expect_error(
        system.disputes.GetDispute(pb.GetDisputeRequest(name="disputes/" + "0" * 32)), C.NOT_FOUND
    )
    await _unchanged(system, assigned)
    assert await system.outbox_count() == 1  # only the hold of the intake


async def test_accounts_down_is_unavailable_and_writes_nothing(system, database_factory, backend):
    from services.disputes.server import assemble
    from tests.disputes.conftest import disputes_settings
    from tests.support.rpc import channel, running

    url = database_factory.new_url(backend, "disputes")
    asm = assemble(
        disputes_settings(url, "127.0.0.1:1", "127.0.0.1:1", workers=False), clock=system.clock
    )
    async with running(asm.process) as address, channel(address) as ch:
        stub = s.disputes_stub(ch)
        request = pb.CreateDisputeRequest(
            dispute=s.new_case("customers/" + "1" * 32, s.whole("invoices/" + "2" * 32))
        )
        await expect_error(
            stub.CreateDispute(request), C.UNAVAILABLE, reason="ACCOUNTS_UNAVAILABLE"
        )
        assert len((await stub.ListDisputes(pb.ListDisputesRequest())).disputes) == 0


async def test_code_lists_grow_and_deactivate_but_never_vanish(system):
    reasons = await system.disputes.ListReasonCodes(pb.ListReasonCodesRequest(page_size=100))
    assert len(reasons.reason_codes) == 17
    by_code = {r.code: r for r in reasons.reason_codes}
    assert by_code["OTHER"].requires_note and by_code["PRICING"].x12_code == "01"
    causes = await system.disputes.ListRootCauses(
        pb.ListRootCausesRequest(filter="owning_team=GBS")
    )
    assert {r.code for r in causes.root_causes} == {
        "BILLING_ERROR",
        "MASTER_DATA_ERROR",
        "CASH_APPLICATION_ERROR",
        "TAX_SETUP",
    }
    created = await system.disputes.CreateReasonCode(
        pb.CreateReasonCodeRequest(
            reason_code=pb.ReasonCode(
                code="EARLY_PAY_DISCOUNT", display_name="Early payment discount"
            )
        )
    )
    assert created.active and created.name == "reasonCodes/EARLY_PAY_DISCOUNT"
    await expect_error(
        system.disputes.CreateReasonCode(
            pb.CreateReasonCodeRequest(reason_code=pb.ReasonCode(code="EARLY_PAY_DISCOUNT"))
        ),
        C.ALREADY_EXISTS,
    )
    gone = await system.disputes.DeactivateReasonCode(
        pb.DeactivateReasonCodeRequest(name=created.name)
    )
    assert not gone.active
    inactive = await system.disputes.ListReasonCodes(
        pb.ListReasonCodesRequest(filter="active=false")
    )
    assert [r.code for r in inactive.reason_codes] == ["EARLY_PAY_DISCOUNT"]
    c, inv = await _setup(system)
    await expect_error(
        system.disputes.CreateDispute(
            pb.CreateDisputeRequest(
                dispute=s.new_case(c.name, s.whole(inv.name), reason="EARLY_PAY_DISCOUNT")
            )
        ),
        C.INVALID_ARGUMENT,
        field="dispute.reason_code",
    )
    cause = await system.disputes.CreateRootCause(
        pb.CreateRootCauseRequest(root_cause=pb.RootCause(code="EDI_MAPPING", owning_team="GBS"))
    )
    assert cause.owning_team == "GBS"
    await expect_error(
        system.disputes.CreateRootCause(
            pb.CreateRootCauseRequest(root_cause=pb.RootCause(code="X_Y", owning_team="MARKETING"))
        ),
        C.INVALID_ARGUMENT,
        field="root_cause.owning_team",
    )


async def test_concurrent_retries_and_hostile_text(system):
    import asyncio

    c, inv = await _setup(system)
    request = pb.CreateDisputeRequest(
        dispute=s.new_case(c.name, s.partial(inv.name, "5.00")), request_id="same-id"
    )
    # four writers queue on SQLite's one write lock: on a loaded machine that outlasts the
    # default 5 s deadline, which is not what this test is about
    results = await asyncio.gather(
        *(system.disputes.CreateDispute(request, timeout=60) for _ in range(4))
    )
    assert len({r.name for r in results}) == 1 and await _count(system) == 1
    hostile = s.new_case(c.name, s.partial(inv.name, "5.00"))
    hostile.title = "x" * 5000
    hostile.external_ref = "ref\x00"
    hostile.first_note = "n" * 20_000
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=hostile)),
        C.INVALID_ARGUMENT,
        fields=["dispute.title", "dispute.external_ref", "dispute.first_note"],
    )
    case = results[0]
    await expect_error(
        system.disputes.AddEvidence(
            pb.AddEvidenceRequest(parent=case.name, evidence=pb.Evidence(uri="javascript:alert(1)"))
        ),
        C.INVALID_ARGUMENT,
        field="evidence.uri",
    )
    await expect_error(
        system.disputes.ListDisputes(pb.ListDisputesRequest(page_token="garbage")),
        C.INVALID_ARGUMENT,
        field="page_token",
    )
    await expect_error(
        system.disputes.ListDisputes(pb.ListDisputesRequest(filter="due_time<yesterday")),
        C.INVALID_ARGUMENT,
        field="filter",
    )
    await _unchanged(system, case)


async def test_a_nul_byte_in_a_title_is_a_field_violation_and_writes_nothing(system):
    """PostgreSQL cannot store a NUL byte: it must be refused at the edge, not become INTERNAL."""
    c, inv = await _setup(system)
    case = s.new_case(c.name, s.partial(inv.name, "5.00"))
    case.title = "short\x00payment"
    await expect_error(
        system.disputes.CreateDispute(pb.CreateDisputeRequest(dispute=case)),
        C.INVALID_ARGUMENT,
        field="dispute.title",
    )
    assert await _count(system) == 0
    assert await system.outbox_count() == 0
