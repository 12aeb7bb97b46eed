"""Routing rules as data through gRPC: seeded, created, updated, deactivated; admins only."""

from __future__ import annotations

import grpc

from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request
from tests.support.rpc import as_actor, expect_error


async def all_rules(esc, show_inactive=False) -> list[pb.RoutingRule]:
    found, token = [], ""
    while True:
        page = await esc.stub.ListRoutingRules(
            pb.ListRoutingRulesRequest(page_size=10, page_token=token, show_inactive=show_inactive)
        )
        found += page.routing_rules
        if not (token := page.next_page_token):
            return found


async def test_seeded_rules_are_listed_in_priority_order(esc):
    rules = await all_rules(esc)
    assert len(rules) == 32
    assert [r.priority for r in rules] == sorted(r.priority for r in rules)
    assert rules[0].customer_flag in ("bankruptcy", "in_litigation")
    assert rules[0].team == pb.LEGAL


async def test_deactivating_a_rule_changes_routing_and_keeps_the_rule(esc):
    as_actor("user:ada", "admin")
    (pricing,) = [r for r in await all_rules(esc) if r.dispute_reason == "PRICING"]
    off = await esc.stub.UpdateRoutingRule(
        pb.UpdateRoutingRuleRequest(
            routing_rule=pb.RoutingRule(name=pricing.name, etag=pricing.etag, active=False),
            update_mask="active",
        )
    )
    assert not off.active and off.team == pb.SALES and off.etag != pricing.etag
    made = await esc.stub.RaiseEscalation(
        raise_request(
            reason_code="SLA_BREACH", attributes={"dispute_reason": "PRICING"}, raised_by="user:ada"
        )
    )
    assert made.team == pb.TEAM_LEAD  # the fallback now
    assert pricing.name not in [r.name for r in await all_rules(esc)]
    assert pricing.name in [r.name for r in await all_rules(esc, show_inactive=True)]
    await expect_error(
        esc.stub.UpdateRoutingRule(
            pb.UpdateRoutingRuleRequest(
                routing_rule=pb.RoutingRule(name=pricing.name, etag=pricing.etag, active=True),
                update_mask="active",
            )
        ),
        grpc.StatusCode.ABORTED,
    )


async def test_only_leads_and_admins_change_rules_and_bad_rules_are_refused(esc):
    rule = pb.RoutingRule(
        priority=1, active=True, reason_code="VIP", team=pb.LEGAL, severity=pb.HIGH
    )
    as_actor("user:sam", "sales", team="SALES")
    await expect_error(
        esc.stub.CreateRoutingRule(pb.CreateRoutingRuleRequest(routing_rule=rule)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    as_actor("user:lea", "team_lead")
    await expect_error(
        esc.stub.CreateRoutingRule(
            pb.CreateRoutingRuleRequest(
                routing_rule=pb.RoutingRule(
                    priority=-1,
                    reason_code="lower",
                    customer_flag="vip",
                    team=pb.LEGAL,
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=(
            "routing_rule.priority",
            "routing_rule.reason_code",
            "routing_rule.customer_flag",
            "routing_rule.severity",
        ),
    )
    await expect_error(
        esc.stub.UpdateRoutingRule(
            pb.UpdateRoutingRuleRequest(
                routing_rule=pb.RoutingRule(name="routingRules/" + "0" * 32),
                update_mask="colour",
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="update_mask",
    )
    created = await esc.stub.CreateRoutingRule(
        pb.CreateRoutingRuleRequest(routing_rule=rule, request_id="rule-1")
    )
    again = await esc.stub.CreateRoutingRule(
        pb.CreateRoutingRuleRequest(routing_rule=rule, request_id="rule-1")
    )
    assert created == again
    assert len(await all_rules(esc)) == 33
    made = await esc.stub.RaiseEscalation(raise_request(reason_code="VIP", raised_by="user:lea"))
    assert (made.team, made.severity, made.routing_rule) == (pb.LEGAL, pb.HIGH, created.name)


async def test_a_min_amount_without_currency_is_a_field_violation_not_a_crash(esc):
    as_actor("user:ada", "admin")
    (pricing,) = [r for r in await all_rules(esc) if r.dispute_reason == "PRICING"]
    await expect_error(
        esc.stub.UpdateRoutingRule(
            pb.UpdateRoutingRuleRequest(
                routing_rule=pb.RoutingRule(
                    name=pricing.name, etag=pricing.etag, min_amount={"amount": "1.00"}
                ),
                update_mask="min_amount",
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="routing_rule.min_amount.currency_code",
    )
    await expect_error(
        esc.stub.CreateRoutingRule(
            pb.CreateRoutingRuleRequest(
                routing_rule=pb.RoutingRule(
                    priority=1,
                    reason_code="VIP",
                    team=pb.LEGAL,
                    severity=pb.HIGH,
                    min_amount={"amount": "1.00", "currency_code": "XYZ"},
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="routing_rule.min_amount.currency_code",
    )
