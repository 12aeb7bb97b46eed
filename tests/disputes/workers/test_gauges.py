"""The gauges the disputes service polls from its database: open cases by status and team (the
owning team of a reopened case's root cause), and the sweeper's lag behind due clock events."""

from __future__ import annotations

from datetime import timedelta

from common.metrics import CASES_OPEN, SWEEPER_LAG
from services.disputes.workers import gauges
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s


async def _read(system) -> tuple[dict[tuple[str, str], float], float]:
    readings = await gauges.read(system.assembly.ctx)
    opened = {(a["status"], a["team"]): v for v, a in readings[CASES_OPEN]}
    ((lag, attributes),) = readings[SWEEPER_LAG]
    assert attributes == {}
    return opened, lag


async def test_open_cases_by_status_and_team_and_sweeper_lag(system):
    opened, lag = await _read(system)
    assert opened == {(status, ""): 0 for status in gauges.OPEN_STATUSES} and lag == 0

    c = await s.customer(system.accounts)
    first, second = [await s.invoice(system.accounts, c.name, n) for n in ("INV-G1", "INV-G2")]
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(first.name)))
    )
    await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(second.name)))
    )
    opened, lag = await _read(system)
    assert opened[("NEW", "")] == 2 and lag == 0

    # Monday 09:00 + 5 h: the acknowledge clocks' 50 % points (13:00) are an hour overdue.
    system.clock.advance(timedelta(hours=5))
    assert (await _read(system))[1] == 3600
    assert await system.sweep() == 2  # the 50 % warning of each case
    assert (await _read(system))[1] == 0

    case = await system.disputes.AssignDispute(
        pb.AssignDisputeRequest(name=case.name, assignee="user:alice")
    )
    case = await system.disputes.ResolveDispute(
        pb.ResolveDisputeRequest(
            name=case.name, etag=case.etag, root_cause_code="BILLING_ERROR", outcome=pb.CREDITED
        )
    )
    await system.disputes.ReopenDispute(
        pb.ReopenDisputeRequest(name=case.name, etag=case.etag, comment="customer came back")
    )
    opened, _ = await _read(system)
    assert {k: v for k, v in opened.items() if v} == {("NEW", ""): 1, ("REOPENED", "GBS"): 1}
