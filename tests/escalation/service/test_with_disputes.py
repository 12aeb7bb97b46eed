"""End to end with the real accounts and disputes services: a case escalated from the disputes
API lands in the right team's queue, that team (and only it) then sees the case, its answer
resumes the case; an SLA breach in disputes becomes exactly one escalation, however often its
event is delivered; a relay that dies after its RecordEscalations batch committed leaves each
escalation recorded once."""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import grpc
from sqlalchemy import select, update

from common import outbox_delivery
from common.clock import ManualClock
from common.settings import Settings
from services.accounts.server import assemble as assemble_accounts
from services.disputes.data.models import DisputeTeamRow, HistoryRow
from services.disputes.data.models import OutboxEventRow as DisputesOutbox
from services.disputes.server import DisputesParts, assemble
from services.escalation.data.models import OutboxEventRow as EscalationOutbox
from settle.accounts.v1 import accounts_pb2_grpc
from settle.disputes.v1 import disputes_pb2 as dpb
from settle.disputes.v1 import disputes_pb2_grpc
from settle.escalation.v1 import escalation_pb2 as pb
from tests.accounts.conftest import accounts_settings
from tests.disputes import support as ds
from tests.escalation.support import START, EscalationHarness, raise_request, start_escalation
from tests.support.rpc import TEST_SECRET, as_actor, channel, expect_error, running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Trio:
    esc: EscalationHarness
    disputes: disputes_pb2_grpc.DisputesServiceStub
    accounts: object
    assembly: DisputesParts
    clock: ManualClock

    async def disputes_relay(self) -> int:
        return await self.assembly.relay.relay_once()

    async def escalation_relay(self) -> int:
        return await self.esc.parts.relay.relay_once()


@asynccontextmanager
async def trio(backend, database_factory, escalation_url):
    clock = ManualClock(START)
    disputes_addr = f"127.0.0.1:{free_port()}"
    async with (
        running(
            assemble_accounts(
                accounts_settings(database_factory.new_url(backend, "accounts")), clock=clock
            ).process
        ) as accounts_addr,
        start_escalation(escalation_url, clock, disputes=disputes_addr) as esc,
    ):
        settings = Settings(
            service="disputes",
            database_url=database_factory.new_url(backend, "disputes"),
            listen_addr=disputes_addr,
            development=True,
            internal_secret=TEST_SECRET,
            log_level="WARNING",
            downstream={"accounts": accounts_addr, "escalation": esc.address},
            workers_enabled=False,
        )
        assembly = assemble(settings, clock=clock)
        async with (
            running(assembly.process),
            channel(disputes_addr) as dch,
            channel(accounts_addr) as ach,
        ):
            yield Trio(
                esc,
                disputes_pb2_grpc.DisputesServiceStub(dch),
                accounts_pb2_grpc.AccountsServiceStub(ach),
                assembly,
                clock,
            )


async def new_case(t: Trio, reason: str, ref: str) -> dpb.Dispute:
    customer = await ds.customer(t.accounts, ref)
    invoice = await ds.invoice(t.accounts, customer.name, f"INV-{ref}")
    return await t.disputes.CreateDispute(
        dpb.CreateDisputeRequest(
            dispute=ds.new_case(
                customer.name, ds.whole(invoice.name), reason=reason, assignee="user:alice"
            )
        )
    )


async def test_escalated_from_disputes_answered_by_sales_and_the_case_resumes(
    backend, database_factory, escalation_url
):
    async with trio(backend, database_factory, escalation_url) as t:
        case = await new_case(t, "PRICING", "C-1")
        case = await t.disputes.EscalateDispute(
            dpb.EscalateDisputeRequest(
                name=case.name,
                etag=case.etag,
                reason_code="PRICING_AUTHORITY",
                summary="Is the contract price agreed?",
            )
        )
        assert case.status == dpb.Dispute.PENDING_INTERNAL
        while await t.disputes_relay():  # the hold and the escalation go out
            pass
        as_actor("user:sam", "sales", team="SALES")
        queue = await t.esc.stub.ListEscalations(pb.ListEscalationsRequest(filter="state=OPEN"))
        (e,) = queue.escalations
        assert (e.subject, e.team, e.reason_code) == (case.name, pb.SALES, "PRICING_AUTHORITY")
        assert e.amount_at_stake.amount == "1000.00" and e.attributes["dispute_reason"] == "PRICING"
        # The routing rules chose Sales: the case is Sales' once the escalation service says so.
        await expect_error(
            t.disputes.GetDispute(dpb.GetDisputeRequest(name=case.name)), grpc.StatusCode.NOT_FOUND
        )
        as_actor("service:tests", "service")  # the relay runs as the service
        assert await t.escalation_relay() == 1  # RecordEscalation
        as_actor("user:sam", "sales", team="SALES")
        seen = await t.disputes.GetDispute(dpb.GetDisputeRequest(name=case.name))
        assert seen.status == dpb.Dispute.PENDING_INTERNAL and seen.etag == case.etag
        listed = await t.disputes.ListDisputes(dpb.ListDisputesRequest())
        assert [d.name for d in listed.disputes] == [case.name]
        as_actor("user:gina", "gbs", team="GBS")
        assert not (await t.disputes.ListDisputes(dpb.ListDisputesRequest())).disputes
        as_actor("user:sam", "sales", team="SALES")
        e = await t.esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name, etag=e.etag))
        e = await t.esc.stub.RespondToEscalation(
            pb.RespondToEscalationRequest(
                name=e.name,
                etag=e.etag,
                outcome_code="PRICE_CONFIRMED",
                note="price list B applies",
                evidence_links=["https://crm.example/deal/1"],
            )
        )
        await t.esc.stub.ResolveEscalation(pb.ResolveEscalationRequest(name=e.name, etag=e.etag))
        as_actor("service:tests", "service")
        assert await t.escalation_relay() == 1
        resumed = await t.disputes.GetDispute(dpb.GetDisputeRequest(name=case.name))
        assert resumed.status == dpb.Dispute.IN_PROGRESS
        assert [x.uri for x in resumed.evidence] == ["https://crm.example/deal/1"]
        history = await t.disputes.ListDisputeHistory(
            dpb.ListDisputeHistoryRequest(parent=case.name)
        )
        assert [h.kind for h in history.entries].count("ESCALATION_ANSWERED") == 1


async def test_an_sla_breach_in_disputes_makes_one_escalation_even_delivered_twice(
    backend, database_factory, escalation_url
):
    async with trio(backend, database_factory, escalation_url) as t:
        case = await new_case(t, "QTY_SHORT", "C-2")
        while await t.disputes_relay():
            pass
        resolve = next(c for c in case.clocks if c.kind == dpb.RESOLVE)
        t.clock.set(resolve.due_time.ToDatetime(tzinfo=START.tzinfo))
        await t.assembly.sweeper.sweep_once()  # the warnings and the breach fire
        delivered = 0
        while sent := await t.disputes_relay():
            delivered += sent
        assert delivered >= 1
        # Deliver every escalation event again: the outbox is at-least-once.
        async with t.assembly.ctx.db.transaction() as session:
            await session.execute(
                update(DisputesOutbox)
                .where(DisputesOutbox.destination == "escalation")
                .values(delivered_at=None, available_at=t.clock.now())
            )
        while await t.disputes_relay():
            pass
        queue = await t.esc.stub.ListEscalations(pb.ListEscalationsRequest())
        (e,) = queue.escalations
        assert (e.subject, e.team, e.severity) == (case.name, pb.TEAM_LEAD, pb.HIGH)
        # Only breaches escalate (the SLA policies' default): the first to arrive raised it.
        assert e.raised_by == "rule:sla-breach"
        history = await t.esc.stub.ListEscalationHistory(
            pb.ListEscalationHistoryRequest(parent=e.name)
        )
        actions = [h.action for h in history.entries]
        # The breaches of both case clocks: one escalation, raised once, never lowered; one entry
        # per distinct event and none for the redeliveries.
        assert actions.count("RAISED") == 1 and actions.count("SEVERITY_RAISED") <= 1
        assert len(actions) == delivered == 2


async def test_a_relay_killed_mid_batch_leaves_each_escalation_recorded_once(
    backend, database_factory, escalation_url
):
    async with trio(backend, database_factory, escalation_url) as t:
        cases = [await new_case(t, "PRICING", f"C-{n}") for n in range(3)]
        for case in cases:
            await t.esc.stub.RaiseEscalation(
                raise_request(case.name, team=pb.SALES, request_id=f"r-{case.name}")
            )
        as_actor("service:tests", "service")
        relay = t.esc.parts.relay
        # A relay leases the three RecordEscalation events and sends them (one RecordEscalations,
        # committed in disputes), then its process dies before it marks them delivered.
        leased = await relay._lease()
        assert len(leased) == 3
        outcomes = await outbox_delivery.deliver(leased, relay.channels, relay.batch_senders, 5.0)
        assert [error for _, error in outcomes] == [None] * 3
        assert await t.escalation_relay() == 0  # still leased
        # Once the lease runs out another pass sends them again: disputes answers from its store.
        t.clock.advance(timedelta(seconds=31))
        assert await t.escalation_relay() == 3
        async with t.esc.parts.ctx.db.transaction() as session:
            events = (await session.execute(select(EscalationOutbox))).scalars().all()
        assert [(e.delivered_at is not None, e.attempts) for e in events] == [(True, 2)] * 3
        async with t.assembly.ctx.db.transaction() as session:
            teams = (await session.execute(select(DisputeTeamRow))).scalars().all()
            history = (await session.execute(select(HistoryRow))).scalars().all()
        assert sorted(f"disputes/{r.dispute_id}" for r in teams) == sorted(c.name for c in cases)
        recorded = [h.dispute_id for h in history if h.kind == "ESCALATION_RECORDED"]
        assert sorted(f"disputes/{r}" for r in recorded) == sorted(c.name for c in cases)
