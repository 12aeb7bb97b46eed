"""RaiseEscalation through a real gRPC server: idempotency, routing, severity, one open per team."""

from __future__ import annotations

import asyncio

import grpc
from google.rpc import error_details_pb2

from common.actor import reset_actor
from settle.common.v1.common_pb2 import Money
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request
from tests.support.rpc import as_actor, expect_error

DISPUTE = "disputes/" + "d" * 32
SLA_BREACH = dict(
    subject=DISPUTE,
    reason_code="SLA_BREACH",
    raised_by="rule:sla-breach",
    trigger_event_id="evt-1",
    request_id="evt-1",
    summary="Resolve clock breached",
    attributes={"dispute_reason": "QTY_SHORT", "clock": "RESOLVE"},
)


async def queue(esc, team) -> list[pb.Escalation]:
    listed = await esc.stub.ListEscalations(
        pb.ListEscalationsRequest(filter=f"team={pb.Team.Name(team)}")
    )
    return list(listed.escalations)


async def test_sla_breach_delivered_twice_makes_one_escalation_in_the_team_lead_queue(esc):
    first = await esc.stub.RaiseEscalation(pb.RaiseEscalationRequest(**SLA_BREACH))
    second = await esc.stub.RaiseEscalation(pb.RaiseEscalationRequest(**SLA_BREACH))
    assert first.name == second.name
    assert first.team == pb.TEAM_LEAD and first.severity == pb.HIGH
    assert first.state == pb.OPEN and first.trigger_event_id == "evt-1"
    assert first.raised_by == "rule:sla-breach"
    assert [e.name for e in await queue(esc, pb.TEAM_LEAD)] == [first.name]
    everything = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert len(everything.escalations) == 1
    history = await esc.stub.ListEscalationHistory(
        pb.ListEscalationHistoryRequest(parent=first.name)
    )
    assert [h.action for h in history.entries] == ["RAISED"]


async def test_concurrent_duplicate_deliveries_still_make_one(esc):
    results = await asyncio.gather(
        *(esc.stub.RaiseEscalation(pb.RaiseEscalationRequest(**SLA_BREACH)) for _ in range(5))
    )
    assert len({r.name for r in results}) == 1
    everything = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert len(everything.escalations) == 1


async def test_racing_raises_for_one_subject_and_team_end_in_one_at_the_highest_severity(esc):
    severities = [pb.LOW, pb.HIGH, pb.MEDIUM, pb.CRITICAL, pb.LOW, pb.MEDIUM]
    results = await asyncio.gather(
        *(esc.stub.RaiseEscalation(raise_request(team=pb.GBS, severity=s)) for s in severities)
    )
    assert len({r.name for r in results}) == 1
    now = await esc.stub.GetEscalation(pb.GetEscalationRequest(name=results[0].name))
    assert now.severity == pb.CRITICAL
    history = await esc.stub.ListEscalationHistory(pb.ListEscalationHistoryRequest(parent=now.name))
    assert [h.action for h in history.entries].count("RAISED") == 1
    assert len(history.entries) == len(severities)


async def test_routing_by_root_cause_reason_and_flags(esc):
    cases = [
        ({"root_cause": "BILLING_ERROR"}, "SLA_WARNING", pb.GBS),
        ({"root_cause": "sales_pricing_error"}, "SLA_WARNING", pb.SALES),  # codes are upper-cased
        ({"dispute_reason": "PRICING"}, "SLA_BREACH", pb.SALES),
        ({"dispute_reason": "DUPLICATE_BILLING"}, "SLA_BREACH", pb.GBS),
        ({"dispute_reason": "PRICING", "bankruptcy": "true"}, "SLA_BREACH", pb.LEGAL),
        ({"in_litigation": "TRUE"}, "BROKEN_PROMISE", pb.LEGAL),
        ({"root_cause": "FRAUD_OR_LEGAL"}, "SLA_BREACH", pb.LEGAL),
        ({"dispute_reason": "QTY_SHORT"}, "SLA_BREACH", pb.TEAM_LEAD),  # no better match
        ({}, "INSOLVENCY_NOTICE", pb.LEGAL),
    ]
    for i, (attributes, reason, team) in enumerate(cases):
        subject = f"disputes/{i:032x}"
        made = await esc.stub.RaiseEscalation(
            raise_request(subject, reason_code=reason, attributes=attributes)
        )
        assert made.team == team, (attributes, reason, pb.Team.Name(made.team))
        assert made.routing_rule.startswith("routingRules/")


async def test_nothing_matches_and_no_team_named_is_invalid_and_writes_nothing(esc):
    await expect_error(
        esc.stub.RaiseEscalation(raise_request(reason_code="SOMETHING_ELSE")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="team",
    )
    named = await esc.stub.RaiseEscalation(raise_request(reason_code="SOMETHING_ELSE", team=pb.GBS))
    assert named.team == pb.GBS and named.severity == pb.MEDIUM and not named.routing_rule
    everything = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert [e.name for e in everything.escalations] == [named.name]


async def test_severity_never_goes_down_and_one_open_per_subject_and_team(esc):
    high = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES, severity=pb.HIGH))
    low = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES, severity=pb.LOW))
    assert low.name == high.name and low.severity == pb.HIGH and low.etag == high.etag
    critical = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES, severity=pb.CRITICAL))
    assert critical.name == high.name and critical.severity == pb.CRITICAL
    assert critical.etag != high.etag
    # CRITICAL has its own OLA target (1 business day instead of 3): the clock is retargeted.
    assert high.response_clock.target_minutes == 3 * 8 * 60
    assert critical.response_clock.target_minutes == 8 * 60
    # Another team for the same subject is a separate escalation.
    gbs = await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    assert gbs.name != high.name
    history = await esc.stub.ListEscalationHistory(
        pb.ListEscalationHistoryRequest(parent=high.name)
    )
    actions = [h.action for h in history.entries]
    assert actions == ["RAISED", "RAISED_AGAIN", "SEVERITY_RAISED"]
    raised = history.entries[2]
    assert raised.details["from"] == "HIGH" and raised.details["to"] == "CRITICAL"


async def test_a_closed_escalation_does_not_block_a_new_one(esc):
    first = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES))
    await esc.stub.HandBackEscalation(
        pb.HandBackEscalationRequest(name=first.name, outcome_code="NOT_OUR_AREA")
    )
    again = await esc.stub.RaiseEscalation(raise_request(team=pb.SALES))
    assert again.name != first.name and again.state == pb.OPEN


async def test_bad_input_names_every_field_and_writes_nothing(esc):
    bad = pb.RaiseEscalationRequest(
        subject="not a name",
        reason_code="lower case",
        raised_by="alice",
        amount_at_stake=Money(currency_code="EUR", amount="-5.00"),
        attributes={"bankruptcy": "maybe", "Bad Key": "x"},
        summary="x" * 2001,
    )
    # the rules the protos declare first (common/contract.py), every one at once ...
    error = await expect_error(
        esc.stub.RaiseEscalation(bad),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("subject", "reason_code", "raised_by", "attributes[Bad Key]", "summary"),
    )
    assert "Traceback" not in error.details()
    # ... then the service's own: no negative amount at stake, flags are true or false
    well_formed = pb.RaiseEscalationRequest(
        subject="disputes/0123456789abcdef0123456789abcdef",
        reason_code="PRICING_AUTHORITY",
        amount_at_stake=Money(currency_code="EUR", amount="-5.00"),
        attributes={"bankruptcy": "maybe"},
    )
    await expect_error(
        esc.stub.RaiseEscalation(well_formed),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("amount_at_stake.amount", "attributes[bankruptcy]"),
    )
    await expect_error(
        esc.stub.RaiseEscalation(pb.RaiseEscalationRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("subject", "reason_code"),
    )
    everything = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert len(everything.escalations) == 0


async def test_reusing_a_request_id_for_other_content_is_refused(esc):
    await esc.stub.RaiseEscalation(raise_request(team=pb.SALES, request_id="r-1"))
    await expect_error(
        esc.stub.RaiseEscalation(raise_request(team=pb.GBS, request_id="r-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="request_id",
    )


async def test_amount_rule_routes_large_amounts(esc):
    rule = pb.RoutingRule(
        description="Big pricing claims need the team lead",
        priority=5,
        active=True,
        dispute_reason="PRICING",
        min_amount=Money(currency_code="EUR", amount="100000.00"),
        team=pb.TEAM_LEAD,
        severity=pb.CRITICAL,
    )
    lead = as_actor("user:lea", "team_lead")
    created = await esc.stub.CreateRoutingRule(pb.CreateRoutingRuleRequest(routing_rule=rule))
    reset_actor(lead)  # the raises below come from the disputes service's rules
    big = await esc.stub.RaiseEscalation(
        raise_request(
            f"disputes/{1:032x}",
            reason_code="SLA_BREACH",
            attributes={"dispute_reason": "PRICING"},
            amount_at_stake=Money(currency_code="EUR", amount="150000.00"),
        )
    )
    small = await esc.stub.RaiseEscalation(
        raise_request(
            f"disputes/{2:032x}",
            reason_code="SLA_BREACH",
            attributes={"dispute_reason": "PRICING"},
            amount_at_stake=Money(currency_code="EUR", amount="99999.99"),
        )
    )
    other_currency = await esc.stub.RaiseEscalation(
        raise_request(
            f"disputes/{3:032x}",
            reason_code="SLA_BREACH",
            attributes={"dispute_reason": "PRICING"},
            amount_at_stake=Money(currency_code="USD", amount="150000.00"),
        )
    )
    assert (big.team, big.severity, big.routing_rule) == (pb.TEAM_LEAD, pb.CRITICAL, created.name)
    assert small.team == pb.SALES and other_currency.team == pb.SALES


async def test_a_person_cannot_raise_in_a_rules_or_someone_elses_name(esc):
    person = as_actor("user:carl", "collector")
    try:
        for spoof in (
            raise_request(f"disputes/{7:032x}", reason_code="SLA_BREACH"),  # rule:… + event id
            pb.RaiseEscalationRequest(
                subject=f"disputes/{7:032x}",
                team=pb.SALES,
                reason_code="PRICING_AUTHORITY",
                raised_by="user:dana",
            ),
        ):
            await expect_error(
                esc.stub.RaiseEscalation(spoof),
                grpc.StatusCode.PERMISSION_DENIED,
                reason="RAISER_NOT_CALLER",
            )
        own = await esc.stub.RaiseEscalation(
            pb.RaiseEscalationRequest(
                subject=f"disputes/{7:032x}", team=pb.SALES, reason_code="PRICING_AUTHORITY"
            )
        )
        assert own.raised_by == "user:carl"
        listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
        assert [e.name for e in listed.escalations] == [own.name]
    finally:
        reset_actor(person)


async def test_a_nul_byte_in_any_text_is_invalid_argument_on_every_database(esc):
    """PostgreSQL cannot store a NUL: it is refused at the edge with a field violation, not a
    500 from the database (this test runs on SQLite and PostgreSQL)."""
    await expect_error(
        esc.stub.RaiseEscalation(raise_request(summary="Price \x00 disputed")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="summary",
    )
    await expect_error(
        esc.stub.RaiseEscalation(
            raise_request(
                raised_by="rule:sla\x00",
                trigger_event_id="evt\x00",
                attributes={"priority": "p\x001"},
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("raised_by", "trigger_event_id", "attributes[priority]"),
    )
    batch = await esc.stub.RaiseEscalations(
        pb.RaiseEscalationsRequest(
            items=[
                pb.RaiseEscalationsRequest.Item(request=raise_request(summary="a\x00b")),
                pb.RaiseEscalationsRequest.Item(request=raise_request(summary="fine")),
            ]
        )
    )
    refused, raised = batch.results
    assert refused.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad_request = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad_request) for d in refused.error.details)
    assert [v.field for v in bad_request.field_violations] == ["summary"]
    assert raised.escalation.summary == "fine"
    made = await esc.stub.RaiseEscalation(raise_request())
    await expect_error(
        esc.stub.RequestEscalationInfo(
            pb.RequestEscalationInfoRequest(name=made.name, question="why\x00?")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="question",
    )
