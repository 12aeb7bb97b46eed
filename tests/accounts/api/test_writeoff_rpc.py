"""Write-off with four eyes through a real gRPC server, on SQLite and PostgreSQL: above the first
limit a second approver is needed and the requester is refused (PERMISSION_DENIED,
SEGREGATION_OF_DUTIES); posting takes the amount out of the invoice once, reversal puts it back;
a dispute's write-off shows in the same report."""

from __future__ import annotations

import grpc
import pytest

from common.actor import reset_actor
from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import as_actor, expect_error

CARL, TINA, TOM, FRIDA = "user:carl", "user:tina", "user:tom", "user:frida"


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


class As:
    """Runs the block as one person with one role."""

    def __init__(self, subject: str, role: str):
        self.subject, self.role = subject, role

    def __enter__(self):
        self.token = as_actor(self.subject, self.role)

    def __exit__(self, *exc):
        reset_actor(self.token)


@pytest.fixture
async def books(accounts):
    stub = accounts.stub
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="Acme", currency_code="EUR"))
    )
    invoice = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name,
                external_number="INV-1",
                invoice_date="2025-10-01",
                due_date="2025-11-01",
                amount=eur("20000.00"),
            )
        )
    )
    return accounts, customer, invoice


async def _request(stub, customer, invoice, amount: str):
    with As(CARL, "collector"):
        made = await stub.CreateWriteOff(
            pb.CreateWriteOffRequest(
                write_off=pb.WriteOff(
                    customer=customer.name,
                    currency_code="EUR",
                    lines=[pb.WriteOffLine(invoice=invoice.name, amount=eur(amount))],
                    reason_code="UNCOLLECTIBLE",
                    evidence=["tickets/4711"],
                )
            )
        )
        return await stub.SubmitWriteOff(pb.SubmitWriteOffRequest(name=made.name, etag=made.etag))


def _act(action: str, w):
    """The request of `action` ("Approve", "Post", ...) on write-off `w` at its current etag."""
    return getattr(pb, f"{action}WriteOffRequest")(name=w.name, etag=w.etag)


async def test_above_the_first_limit_a_second_person_approves_never_the_requester(books):
    accounts, customer, invoice = books
    stub = accounts.stub
    pending = await _request(stub, customer, invoice, "1500.00")
    assert pending.state == pb.WriteOff.PENDING_APPROVAL and pending.required_approvals == 2

    with As(CARL, "team_lead"):  # the requester, even with an approver's role
        await expect_error(
            stub.ApproveWriteOff(_act("Approve", pending)),
            grpc.StatusCode.PERMISSION_DENIED,
            reason="SEGREGATION_OF_DUTIES",
        )
    with As(TINA, "team_lead"):  # limit 1,000.00: counts as the first of two
        once = await stub.ApproveWriteOff(_act("Approve", pending))
    assert once.state == pb.WriteOff.PENDING_APPROVAL and len(once.approvals) == 1
    with As(TINA, "team_lead"):
        await expect_error(
            stub.ApproveWriteOff(_act("Approve", once)), grpc.StatusCode.FAILED_PRECONDITION
        )
    with As(FRIDA, "finance_manager"):
        approved = await stub.ApproveWriteOff(_act("Approve", once))
    assert approved.state == pb.WriteOff.APPROVED
    assert [a.approver for a in approved.approvals] == [TINA, FRIDA]

    with As(CARL, "collector"):
        posted = await stub.PostWriteOff(_act("Post", approved))
        await expect_error(
            stub.PostWriteOff(_act("Post", posted)), grpc.StatusCode.FAILED_PRECONDITION
        )
    assert posted.state == pb.WriteOff.POSTED
    after = await stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert after.open_amount == eur("18500.00")

    with As(FRIDA, "finance_manager"):
        reversed_ = await stub.ReverseWriteOff(
            pb.ReverseWriteOffRequest(name=posted.name, etag=posted.etag, note="paid after all")
        )
    assert reversed_.state == pb.WriteOff.REVERSED and reversed_.decision_note == "paid after all"
    back = await stub.GetInvoice(pb.GetInvoiceRequest(name=invoice.name))
    assert back.open_amount == eur("20000.00")


async def test_up_to_the_first_limit_one_approval_and_the_report_holds_dispute_write_offs(books):
    accounts, customer, invoice = books
    stub = accounts.stub
    pending = await _request(stub, customer, invoice, "800.00")
    assert pending.required_approvals == 1
    with As(TOM, "team_lead"):
        approved = await stub.ApproveWriteOff(_act("Approve", pending))
    assert approved.state == pb.WriteOff.APPROVED

    await stub.PlaceHold(
        pb.PlaceHoldRequest(
            invoice=invoice.name, dispute="disputes/d9", amount=eur("100.00"), request_id="h9"
        )
    )
    await stub.PostDisputeAdjustment(
        pb.PostDisputeAdjustmentRequest(
            invoice=invoice.name, dispute="disputes/d9", kind=pb.WRITE_OFF, amount=eur("100.00"),
            reason_code="GOODWILL", request_id="a9",
        )
    )  # fmt: skip
    report = await stub.ListWriteOffs(pb.ListWriteOffsRequest(customer=customer.name))
    sources = sorted((w.source, w.state, w.amount.amount) for w in report.write_offs)
    assert sources == [("DISPUTE", pb.WriteOff.POSTED, "100.00"),
                       ("REQUEST", pb.WriteOff.APPROVED, "800.00")]  # fmt: skip


async def test_above_every_limit_nobody_may_approve(books):
    accounts, customer, invoice = books
    with As(CARL, "collector"):
        made = await accounts.stub.CreateWriteOff(
            pb.CreateWriteOffRequest(
                write_off=pb.WriteOff(
                    customer=customer.name,
                    currency_code="EUR",
                    lines=[pb.WriteOffLine(invoice=invoice.name, amount=eur("10000.01"))],
                    reason_code="UNCOLLECTIBLE",
                )
            )
        )
        await expect_error(
            accounts.stub.SubmitWriteOff(_act("Submit", made)),
            grpc.StatusCode.FAILED_PRECONDITION,
            reason="ABOVE_APPROVAL_AUTHORITY",
        )
