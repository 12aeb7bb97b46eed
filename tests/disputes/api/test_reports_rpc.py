"""The disputes reports through the RPCs, on both databases: docs/reports.md §9 (carrying cost,
EUR 129.86 for 12,500 × 45 days and 3,000 × 10 days at 8 %) on cases opened and resolved through
the lifecycle RPCs, the Pareto order, cycle time median and p90 (§11), created vs resolved, open
disputes, SLA compliance (§10) and the team scope."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from common.reports.figures import percent
from common.reports.schedule_store import ScheduleStore
from common.rpc.server import ServiceProcess
from services.disputes.api.reports_servicer import DisputesReportsServicer
from services.disputes.data.models import ReportRunRow, ReportScheduleRow
from services.disputes.service.reports import DisputesReports
from settle.common.v1 import reports_pb2 as rpb
from settle.disputes.v1 import disputes_pb2 as pb
from settle.disputes.v1 import reports_pb2_grpc
from tests.disputes import support as s
from tests.support.rpc import TEST_SECRET, as_actor, channel, expect_error, running

APRIL = {"period_start": "2026-04-01", "period_end": "2026-04-30"}


def _rows(result) -> list[list]:
    return [MessageToDict(row) for row in result.tables[0].rows]


@pytest.fixture
async def reports(system, tmp_path):
    """The reports servicer on the system's own context, served by a server of its own (the
    system's disputes server does not tell its port)."""
    ctx = system.assembly.ctx
    store = ScheduleStore(ctx.db, ReportScheduleRow, ReportRunRow)
    catalog = DisputesReports(ctx).catalog()
    servicer = DisputesReportsServicer(catalog, system.clock, store, tmp_path)
    process = ServiceProcess(
        name="disputes",
        listen_addr="127.0.0.1:0",
        internal_secret=TEST_SECRET,
        register=servicer.register,
        service_names=(servicer.service_name,),
        ready_check=system.assembly.ctx.db.ping,
    )
    async with running(process) as address, channel(address) as ch:
        yield reports_pb2_grpc.DisputesReportsServiceStub(ch)


async def _case(system, number: str, amount: str, reason: str) -> pb.Dispute:
    c = await s.customer(system.accounts, ref=f"C-{number}")
    inv = await s.invoice(system.accounts, c.name, number, amount, lines=())
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, s.whole(inv.name), reason=reason, assignee="user:bob")
        )
    )


async def _resolve(system, case: pb.Dispute, root_cause: str) -> None:
    await system.disputes.ResolveDispute(
        pb.ResolveDisputeRequest(
            name=case.name, root_cause_code=root_cause, outcome=pb.WRITTEN_OFF, comment="settled"
        )
    )


async def test_carrying_cost_pareto_cycle_time_and_flow(system, reports):
    first = await _case(system, "INV-A", "12500.00", "DAMAGED")
    snapshot = await reports.RunReport(rpb.RunReportRequest(report="open-disputes"))
    assert _rows(snapshot) == [["DAMAGED", "", "", "EUR", 1, "12500.00", "12500.00"]]
    system.clock.advance(timedelta(days=35))  # 2026-04-06
    second = await _case(system, "INV-B", "3000.00", "DAMAGED")
    third = await _case(system, "INV-C", "1000.00", "PRICING")
    snapshot = await reports.RunReport(rpb.RunReportRequest(report="open-disputes"))
    by_processor, top = ([MessageToDict(r) for r in t.rows] for t in snapshot.tables[1:])
    assert by_processor == [["user:bob", "EUR", 3, "16500.00", "16500.00", 35]]
    assert [row[:2] + row[3:] for row in top] == [
        ["EUR", 1, 1, "12500.00", "12500.00"],
        ["EUR", 2, 1, "3000.00", "3000.00"],
        ["EUR", 3, 1, "1000.00", "1000.00"],
    ]
    assert top[0][2] == first.customer.removeprefix("customers/")
    system.clock.advance(timedelta(days=2))
    await _resolve(system, third, "SALES_PRICING_ERROR")
    system.clock.advance(timedelta(days=8))  # 2026-04-16: open 45 and 10 days
    await _resolve(system, first, "CARRIER_DAMAGE")
    await _resolve(system, second, "CARRIER_DAMAGE")

    pareto = await reports.RunReport(
        rpb.RunReportRequest(report="root-cause-pareto", annual_rate="0.08", **APRIL)
    )
    damage, pricing = _rows(pareto)
    assert damage == [
        "EUR", "CARRIER_DAMAGE", 2, "15500.00", "0.00", "15500.00", 55, "129.86",
        str(percent(Decimal("129.86"), Decimal("130.30"))),
    ]  # fmt: skip
    # 1,000 × 2 × 0.08 ÷ 365 = 0.438… → 0.44; the Pareto ends at 100 %.
    assert pricing[1:] == [
        "SALES_PRICING_ERROR",
        1,
        "1000.00",
        "0.00",
        "1000.00",
        2,
        "0.44",
        "100.00",
    ]
    assert pareto.parameters == {**APRIL, "annual_rate": "0.08"}
    assert pareto.formula_version == "2026.1" and pareto.data_watermark.startswith("disputes=3@")

    cycle = await reports.RunReport(rpb.RunReportRequest(report="cycle-time", **APRIL))
    # 45 and 10 days: median 27.5; p90 by nearest rank is the ⌈1.8⌉ = 2nd, 45.
    assert _rows(cycle) == [
        ["DAMAGED", "CARRIER_DAMAGE", 2, "27.5", "45.0"],
        ["PRICING", "SALES_PRICING_ERROR", 1, "2.0", "2.0"],
    ]
    flow = await reports.RunReport(rpb.RunReportRequest(report="created-vs-resolved", **APRIL))
    days = {row[0]: row[1:] for row in _rows(flow)}
    assert len(days) == 30
    assert (days["2026-04-06"], days["2026-04-08"], days["2026-04-16"]) == (
        [2, 0, 2],
        [0, 1, -1],
        [0, 2, -2],
    )
    assert sum(v[0] for v in days.values()) == 2 and sum(v[1] for v in days.values()) == 3

    assert _rows(await reports.RunReport(rpb.RunReportRequest(report="open-disputes"))) == []
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="root-cause-pareto", **APRIL)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="annual_rate",
    )


async def test_sla_compliance_counts_each_judged_clock_once(system, reports):
    await s.calendar_policies(system.disputes, "DAMAGED", resolve_s=3600, acknowledge_s=600)
    late = await _case(system, "INV-L", "100.00", "DAMAGED")
    on_time = await _case(system, "INV-T", "100.00", "DAMAGED")
    system.clock.advance(timedelta(minutes=30))
    await _resolve(system, on_time, "CARRIER_DAMAGE")
    system.clock.advance(timedelta(hours=2))
    await system.sweep()  # the late case's resolve clock breaches
    await _resolve(system, late, "CARRIER_DAMAGE")
    march = {"period_start": "2026-03-01", "period_end": "2026-03-31"}
    result = await reports.RunReport(rpb.RunReportRequest(report="sla-compliance", **march))
    by_clock = {(row[0], row[1]): row[3:] for row in _rows(result)}
    resolve = [v for (kind, _), v in by_clock.items() if kind == "RESOLVE"]
    assert resolve == [[1, 1, "50.00"]]
    for met, breached, compliance in by_clock.values():
        assert Decimal(compliance) == percent(met, met + breached)


async def test_a_team_user_sees_only_cases_escalated_to_the_team(system, reports):
    await _case(system, "INV-S", "100.00", "DAMAGED")
    token = as_actor("user:sam", "sales", team="SALES")
    try:
        result = await reports.RunReport(rpb.RunReportRequest(report="open-disputes"))
    finally:
        from common import actor as actors

        actors.reset_actor(token)
    assert _rows(result) == []
