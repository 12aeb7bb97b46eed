"""The escalation reports through the RPCs, on both databases: OLA compliance with response times
in business hours of the team's calendar (GBS: Mon–Fri 09:00–17:00 Berlin), escalations by reason
and outcome, and the team scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.json_format import MessageToDict

from common import actor as actors
from settle.common.v1 import reports_pb2 as rpb
from settle.escalation.v1 import escalation_pb2 as pb
from settle.escalation.v1 import reports_pb2_grpc
from tests.escalation.support import raise_request
from tests.support.rpc import as_actor, channel

MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}


@pytest.fixture
async def reports(esc):
    async with channel(esc.address) as ch:
        yield reports_pb2_grpc.EscalationReportsServiceStub(ch)


def _rows(result) -> list[list]:
    return [MessageToDict(row) for row in result.tables[0].rows]


async def _answer(esc, e: pb.Escalation) -> None:
    token = as_actor("user:gina", "gbs", team="GBS")
    try:
        e = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=e.name))
        await esc.stub.RespondToEscalation(
            pb.RespondToEscalationRequest(
                name=e.name, etag=e.etag, outcome_code="PRICE_CONFIRMED", note="checked"
            )
        )
    finally:
        actors.reset_actor(token)


async def test_ola_compliance_response_times_and_reasons(esc, reports):
    # Both raised Monday 10:00 Berlin; the first answered at 12:00 (2 business hours), the
    # second a week later after its breach (Mon 7 h + Tue–Fri 32 h + Mon 1 h = 40 h).
    quick = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    late = await esc.stub.RaiseEscalation(
        raise_request(subject="disputes/" + "b" * 32, team=pb.GBS)
    )
    await esc.stub.RaiseEscalation(raise_request(subject="disputes/" + "c" * 32, team=pb.SALES))
    esc.clock.advance(timedelta(hours=2))
    await _answer(esc, quick)
    esc.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    await esc.parts.sweeper.sweep_once()
    await esc.parts.sweeper.sweep_once()
    await _answer(esc, late)

    ola = await reports.RunReport(rpb.RunReportRequest(report="ola-compliance", **MARCH))
    # GBS: 1 met ÷ (1 met + 1 breached) = 50 %; median (2 + 40) ÷ 2 = 21; p90 by nearest rank =
    # 40. Sales has not answered, and its breach fell due in March: judged breached, no times.
    sales = ["SALES", 0, 1, "0.00", 0, None, None]
    assert _rows(ola) == [["GBS", 1, 1, "50.00", 2, "21.0", "40.0"], sales]
    assert ola.parameters == MARCH and ola.data_watermark.startswith("escalations=3@")
    by_reason = await reports.RunReport(
        rpb.RunReportRequest(report="by-reason-and-outcome", **MARCH)
    )
    assert _rows(by_reason) == [
        ["GBS", "PRICING_AUTHORITY", "PRICE_CONFIRMED", 2, "", None],
        ["SALES", "PRICING_AUTHORITY", "", 1, "", None],
    ]
    token = as_actor("user:sam", "sales", team="SALES")
    try:
        mine = await reports.RunReport(
            rpb.RunReportRequest(report="by-reason-and-outcome", **MARCH)
        )
        assert _rows(mine) == [["SALES", "PRICING_AUTHORITY", "", 1, "", None]]
        ola = await reports.RunReport(rpb.RunReportRequest(report="ola-compliance", **MARCH))
        assert _rows(ola) == [sales]
    finally:
        actors.reset_actor(token)
