"""End to end on real time: the disputes service runs its own sweeper and relay on the system
clock, with a policy of a few seconds, and its warnings and breach fire on time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from common.clock import SystemClock
from services.accounts.server import assemble as assemble_accounts
from services.disputes.server import assemble
from settle.accounts.v1 import accounts_pb2 as apb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.disputes.v1 import disputes_pb2 as pb
from settle.disputes.v1 import disputes_pb2_grpc
from tests.accounts.conftest import accounts_settings
from tests.disputes import support as s
from tests.disputes.conftest import disputes_settings
from tests.support.rpc import channel, running

TARGET_S = 3


async def _wait_for(predicate, timeout_s: float = 10.0, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await predicate()
        if found:
            return found
        await asyncio.sleep(every_s)
    raise AssertionError("timed out")


async def test_warning_and_breach_fire_on_time_with_the_service_running(backend, database_factory):
    clock = SystemClock()
    accounts_url = database_factory.new_url(backend, "accounts")
    disputes_url = database_factory.new_url(backend, "disputes")
    async with (
        s.fake_escalation() as (escalation, escalation_addr),
        running(
            assemble_accounts(accounts_settings(accounts_url), clock=clock).process
        ) as accounts_addr,
        running(
            assemble(
                disputes_settings(disputes_url, accounts_addr, escalation_addr, workers=True),
                clock=clock,
            ).process
        ) as address,
        channel(address) as ch,
        channel(accounts_addr) as ach,
    ):
        disputes = disputes_pb2_grpc.DisputesServiceStub(ch)
        accounts = accounts_pb2_grpc.AccountsServiceStub(ach)
        await s.calendar_policies(disputes, "WRONG_ITEM", TARGET_S)
        c = await s.customer(accounts)
        inv = await s.invoice(accounts, c.name, "INV-E2E")
        case = await disputes.CreateDispute(
            pb.CreateDisputeRequest(
                dispute=s.new_case(c.name, s.partial(inv.name, "250.00"), reason="WRONG_ITEM")
            )
        )
        opened = case.create_time.ToDatetime(tzinfo=UTC)

        async def fired():
            reply = await disputes.ListDisputeHistory(
                pb.ListDisputeHistoryRequest(parent=case.name)
            )
            entries = [e for e in reply.entries if e.kind in ("CLOCK_WARNED", "CLOCK_BREACHED")]
            return entries if len(entries) == 3 else None

        entries = await _wait_for(fired, timeout_s=TARGET_S + 5)
        seen_at = datetime.now(UTC)
        lateness = {}
        for e in entries:
            due = datetime.fromisoformat(e.details["due_time"])
            at = datetime.fromisoformat(e.details["fired_time"])
            lateness[e.details["threshold"]] = (at - due).total_seconds()
            assert 0 <= (at - due).total_seconds() < 2.0, e
        assert list(lateness) == ["WARNING_50", "WARNING_75", "BREACH"]
        breach_due = datetime.fromisoformat(entries[-1].details["due_time"])
        assert abs((breach_due - opened).total_seconds() - TARGET_S) < 0.01
        assert (seen_at - breach_due).total_seconds() < 2.5  # observed from outside, too
        print(f"\n[{backend}] lateness after due time (s): {lateness}")

        # the relay worker delivered the hold to accounts and the events to escalation
        async def delivered():
            invoice = await accounts.GetInvoice(apb.GetInvoiceRequest(name=inv.name))
            return invoice.held_amount.amount == "250.00" and len(escalation.received) == 1

        await _wait_for(delivered, timeout_s=5)
        # warnings are events; the breach escalates (the policy default)
        assert [e.reason_code for e in escalation.received] == ["SLA_BREACH"]
        final = await disputes.GetDispute(pb.GetDisputeRequest(name=case.name))
        assert final.sla_state == pb.BREACHED
