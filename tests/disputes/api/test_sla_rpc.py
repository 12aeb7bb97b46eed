"""SLA clocks on a ManualClock: targets from policies and calendars, warnings and breach fired once
each, pauses, re-targeting, and catching up after the sweeper was away."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from common.outbox import URGENT
from services.disputes.workers.sweeper import Sweeper
from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s


async def _case(system, reason="PRICING", **fields):
    c = await s.customer(system.accounts, fields.pop("ref", "C-1"))
    inv = await s.invoice(system.accounts, c.name, fields.pop("number", "INV-1"))
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, s.whole(inv.name), reason=reason, **fields)
        )
    )


async def _get(system, case):
    return await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))


async def _events(system, case, *kinds):
    reply = await system.disputes.ListDisputeHistory(pb.ListDisputeHistoryRequest(parent=case.name))
    return [e for e in reply.entries if e.kind in kinds]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def test_warnings_and_breach_fire_once_each_when_due(system):
    case = await _case(system)  # Monday 09:00; acknowledge due 17:00, resolve due Friday 17:00
    system.clock.set(_at(2, 12, 59))
    assert await system.sweep() == 0
    system.clock.set(_at(2, 13, 0))
    assert await system.sweep() == 1  # acknowledge at 50 %
    assert await system.sweep() == 0  # never twice
    assert (await _get(system, case)).sla_state == pb.WARNED
    await system.relay()
    # a warning is an event (history, metrics, SLA state), not an escalation: the policy default
    assert system.escalation.received == []

    system.clock.set(_at(2, 17, 0))
    assert await system.sweep() == 2  # 75 % and breach of the acknowledge clock
    current = await _get(system, case)
    ack = next(c for c in current.clocks if c.kind == pb.ACKNOWLEDGE)
    assert current.sla_state == pb.BREACHED and ack.breached and ack.warned
    assert ack.business_time_remaining.ToTimedelta() == timedelta(0)
    fired = await _events(system, case, "CLOCK_WARNED", "CLOCK_BREACHED")
    assert [(e.details["clock"], e.details["threshold"]) for e in fired] == [
        ("ACKNOWLEDGE", "WARNING_50"),
        ("ACKNOWLEDGE", "WARNING_75"),
        ("ACKNOWLEDGE", "BREACH"),
    ]
    assert [e.details["lateness"] for e in fired] == ["0s", "7200s", "0s"]
    assert all(e.actor == "rule:sla" and e.version == current_version(current) for e in fired)
    # only the breach raises an escalation (the policy default); its event is urgent
    assert await system.outbox_count(destination="escalation") == 1
    assert await system.outbox_count(destination="escalation", priority=URGENT) == 1
    await system.relay()
    (breach,) = system.escalation.received
    assert (breach.reason_code, breach.raised_by, breach.subject) == (
        "SLA_BREACH",
        "rule:sla-breach",
        case.name,
    )
    assert (
        breach.attributes["clock"] == "ACKNOWLEDGE" and breach.attributes["threshold"] == "BREACH"
    )
    assert breach.trigger_event_id and breach.request_id


def current_version(case) -> int:
    return 1  # clock firings change the case's SLA state but not its etag/version (see docs)


async def test_a_sweeper_stopped_past_several_due_times_fires_them_all_on_restart(system):
    case = await _case(system)
    first = Sweeper(system.assembly.ctx, max_sleep_s=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await task
    system.clock.set(_at(16, 9))  # two weeks later: every milestone of both clocks is past due
    restarted = Sweeper(system.assembly.ctx, max_sleep_s=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(restarted.run(stop))
    try:
        for _ in range(50):
            if len(await _events(system, case, "CLOCK_WARNED", "CLOCK_BREACHED")) == 6:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    fired = await _events(system, case, "CLOCK_WARNED", "CLOCK_BREACHED")
    assert sorted((e.details["clock"], e.details["threshold"]) for e in fired) == sorted(
        (k, t) for k in ("ACKNOWLEDGE", "RESOLVE") for t in ("WARNING_50", "WARNING_75", "BREACH")
    )
    assert await system.sweep() == 0


async def test_paused_time_is_excluded_and_milestones_follow_the_pause(system):
    case = await _case(system, assignee="user:alice")
    case = await system.disputes.StartDispute(pb.StartDisputeRequest(name=case.name))
    system.clock.set(_at(2, 11))  # 2 business hours spent
    case = await system.disputes.PauseDispute(
        pb.PauseDisputeRequest(
            name=case.name, reason=pb.PENDING_THIRD_PARTY, comment="waiting for the carrier"
        )
    )
    assert (
        case.pause_reason == pb.PENDING_THIRD_PARTY and case.status == pb.Dispute.PENDING_CUSTOMER
    )
    system.clock.set(_at(13, 10))  # a week and a half paused: nothing may fire
    assert await system.sweep() == 0
    case = await system.disputes.ResumeDispute(pb.ResumeDisputeRequest(name=case.name))
    resolve = next(c for c in case.clocks if c.kind == pb.RESOLVE)
    # 38 business hours left from Friday 10:00: Fri 7 h, then Mon–Thu 8 h each = 39 → Thu 16:00
    assert resolve.due_time.ToDatetime(tzinfo=UTC) == _at(19, 16)
    assert resolve.paused_time.ToTimedelta() == _at(13, 10) - _at(2, 11)
    assert case.due_time == resolve.due_time
    # 50 % (20 h) is reached after the pause: 2 + 7 (Fri) + 8 (Mon) + 3 → Tuesday 12:00
    system.clock.set(_at(17, 11, 59))
    assert await system.sweep() == 0
    system.clock.set(_at(17, 12))
    assert await system.sweep() == 1
    (warned,) = await _events(system, case, "CLOCK_WARNED")
    assert (
        warned.details["clock"] == "RESOLVE"
        and warned.details["due_time"] == _at(17, 12).isoformat()
    )


async def test_holidays_and_time_zones_of_the_customer_calendar(system):
    c = await s.customer(system.accounts, "C-DE")
    await system.disputes.CreateCalendar(
        pb.CreateCalendarRequest(
            calendar_id="acme-berlin",
            calendar=pb.Calendar(
                time_zone="Europe/Berlin",
                country_code="DE",
                customer=c.name,
                working_hours=[
                    pb.WorkingHours(day_of_week=d, start="08:00", end="16:00") for d in range(5)
                ],
            ),
        )
    )
    system.clock.set(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))  # Monday 08:00 in Berlin (CEST)
    inv = await s.invoice(system.accounts, c.name, "INV-DE")
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(c.name, s.whole(inv.name)))
    )
    resolve = next(x for x in case.clocks if x.kind == pb.RESOLVE)
    assert resolve.calendar == "calendars/acme-berlin"
    # 5 × 8 h: Mon–Thu, then Good Friday and Easter Monday are holidays → Tuesday 16:00 Berlin
    assert resolve.due_time.ToDatetime(tzinfo=UTC) == datetime(2026, 4, 7, 14, 0, tzinfo=UTC)
    await s.invoice(system.accounts, c.name, "INV-DE2")
    await system.disputes.CreateCalendar(
        pb.CreateCalendarRequest(
            calendar_id="team-gbs", calendar=pb.Calendar(time_zone="Asia/Kolkata", team="GBS")
        )
    )
    calendars = await system.disputes.ListCalendars(pb.ListCalendarsRequest())
    assert [x.name for x in calendars.calendars] == [
        "calendars/acme-berlin",
        "calendars/default",
        "calendars/team-gbs",
    ]


async def test_policy_change_retargets_running_clocks_keeping_time_spent(system):
    case = await _case(system)
    system.clock.set(_at(3, 9))  # one business day spent
    policy = await system.disputes.GetSlaPolicy(
        pb.GetSlaPolicyRequest(name="slaPolicies/resolve-fast")
    )
    updated = await system.disputes.UpdateSlaPolicy(
        pb.UpdateSlaPolicyRequest(
            sla_policy=pb.SlaPolicy(
                name=policy.name,
                etag=policy.etag,
                target=pb.SlaTarget(value=2, unit=pb.BUSINESS_DAYS),
            ),
            update_mask="target",
        )
    )
    assert updated.target.value == 2 and updated.reason_codes == policy.reason_codes
    case = await _get(system, case)
    resolve = next(c for c in case.clocks if c.kind == pb.RESOLVE)
    assert resolve.target_duration.ToTimedelta() == timedelta(hours=16)
    assert resolve.business_time_spent.ToTimedelta() == timedelta(hours=8)
    assert resolve.due_time.ToDatetime(tzinfo=UTC) == _at(3, 17)
    assert len(await _events(system, case, "CLOCK_RETARGETED")) == 1
    # the acknowledge clock's three, due Monday 17:00, fired in the policy change's transaction,
    # before anything was re-planned
    acknowledged = await _events(system, case, "CLOCK_WARNED", "CLOCK_BREACHED")
    assert [(e.details["clock"], e.details["threshold"]) for e in acknowledged] == [
        ("ACKNOWLEDGE", "WARNING_50"),
        ("ACKNOWLEDGE", "WARNING_75"),
        ("ACKNOWLEDGE", "BREACH"),
    ]
    # the resolve clock's 50 % (8 h) was passed on Monday 17:00 under the new target: it fires now,
    # late rather than lost, with its true due time
    assert await system.sweep() == 1
    warned = [
        e for e in await _events(system, case, "CLOCK_WARNED") if e.details["clock"] == "RESOLVE"
    ]
    assert [(e.details["threshold"], e.details["due_time"]) for e in warned] == [
        ("WARNING_50", _at(2, 17).isoformat())
    ]
    stale = pb.UpdateSlaPolicyRequest(
        sla_policy=pb.SlaPolicy(name=policy.name, etag=policy.etag, precedence=1),
        update_mask="precedence",
    )
    import grpc

    from tests.support.rpc import expect_error

    await expect_error(system.disputes.UpdateSlaPolicy(stale), grpc.StatusCode.ABORTED)


async def test_list_filters_by_sla_state_due_window_and_orders(system):
    first = await _case(system, ref="C-1", number="INV-1")  # PRICING: due Friday
    second = await _case(system, reason="QUALITY", ref="C-2", number="INV-2", priority=pb.HIGH)
    system.clock.set(_at(2, 13))
    await system.sweep()

    async def names(**kw):
        reply = await system.disputes.ListDisputes(pb.ListDisputesRequest(**kw))
        return [d.name for d in reply.disputes]

    assert await names(filter="sla_state=WARNED") == [first.name, second.name]
    assert await names(filter="due_time<2026-03-07") == [first.name]
    assert await names(filter="due_time>=2026-03-07T00:00:00Z AND reason=QUALITY") == [second.name]
    assert await names(filter="due_after=2026-03-06 AND due_before=2026-03-07") == [first.name]
    assert await names(filter="priority=HIGH") == [second.name]
    assert await names(order_by="priority desc") == [second.name, first.name]
    assert await names(order_by="due_time desc") == [second.name, first.name]
    page = await system.disputes.ListDisputes(pb.ListDisputesRequest(page_size=1))
    rest = await system.disputes.ListDisputes(
        pb.ListDisputesRequest(page_size=1, page_token=page.next_page_token)
    )
    assert [d.name for d in (*page.disputes, *rest.disputes)] == [first.name, second.name]
    assert await names(filter=f"invoice={first.items[0].invoice}") == [first.name]
    import grpc

    from tests.support.rpc import expect_error

    await expect_error(
        system.disputes.ListDisputes(pb.ListDisputesRequest(filter="sla_state=LATE")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="filter",
    )


async def test_escalation_down_keeps_the_event_until_it_comes_back(system):
    import grpc

    await _case(system)
    system.clock.set(_at(2, 17))
    assert await system.sweep() == 3  # the acknowledge clock's warnings and breach
    system.escalation.fail_with = grpc.StatusCode.UNAVAILABLE
    await system.assembly.relay.relay_once()  # the hold is delivered, the breach is not
    assert system.escalation.received == []
    pending = await system.outbox_count(destination="escalation", delivered_at=None, dead_at=None)
    assert pending == 1
    system.escalation.fail_with = None
    await system.relay()
    assert [e.reason_code for e in system.escalation.received] == ["SLA_BREACH"]
    assert await system.outbox_count(destination="escalation", delivered_at=None) == 0


async def test_calendar_change_moves_the_due_times_of_running_clocks(system):
    case = await _case(system)  # default calendar: resolve due Friday 17:00 UTC
    calendar = await system.disputes.GetCalendar(pb.GetCalendarRequest(name="calendars/default"))
    await system.disputes.UpdateCalendar(
        pb.UpdateCalendarRequest(
            calendar=pb.Calendar(
                name=calendar.name, etag=calendar.etag, extra_holidays=["2026-03-04"]
            ),
            update_mask="extra_holidays",
        )
    )
    case = await _get(system, case)
    resolve = next(c for c in case.clocks if c.kind == pb.RESOLVE)
    assert resolve.due_time.ToDatetime(tzinfo=UTC) == _at(9, 17)  # a day off pushes it to Monday
    assert case.due_time == resolve.due_time


async def test_which_milestones_escalate_is_policy_data(system):
    policy = await system.disputes.GetSlaPolicy(
        pb.GetSlaPolicyRequest(name="slaPolicies/acknowledge-default")
    )
    # seeded policies have the default: the breach escalates, the warnings do not
    assert [(m.milestone, m.escalate) for m in policy.milestones] == [
        ("WARNING_50", False),
        ("WARNING_75", False),
        ("BREACH", True),
    ]
    updated = await system.disputes.UpdateSlaPolicy(
        pb.UpdateSlaPolicyRequest(
            sla_policy=pb.SlaPolicy(
                name=policy.name,
                etag=policy.etag,
                milestones=[
                    pb.SlaMilestoneRule(milestone="WARNING_75", escalate=True),
                    pb.SlaMilestoneRule(milestone="BREACH", escalate=False),
                ],
            ),
            update_mask="milestones",
        )
    )
    assert [(m.milestone, m.escalate) for m in updated.milestones] == [
        ("WARNING_50", False),
        ("WARNING_75", True),
        ("BREACH", False),
    ]
    case = await _case(system)
    system.clock.set(_at(2, 17))
    assert await system.sweep() == 3
    await system.relay()
    (warning,) = system.escalation.received
    assert (warning.reason_code, warning.raised_by, warning.subject) == (
        "SLA_WARNING",
        "rule:sla-warning",
        case.name,
    )
    assert warning.attributes["threshold"] == "WARNING_75"
    import grpc

    from tests.support.rpc import expect_error

    bad = pb.SlaPolicy(
        name=policy.name, milestones=[pb.SlaMilestoneRule(milestone="HALFWAY", escalate=True)]
    )
    await expect_error(
        system.disputes.UpdateSlaPolicy(
            pb.UpdateSlaPolicyRequest(sla_policy=bad, update_mask="milestones")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="sla_policy.milestones",
    )


async def test_list_sla_policies_pages_and_filters_like_get(system):
    every = await system.disputes.ListSlaPolicies(pb.ListSlaPoliciesRequest())
    assert every.sla_policies and [p.name for p in every.sla_policies] == sorted(
        p.name for p in every.sla_policies
    )
    for listed in every.sla_policies:
        assert listed == await system.disputes.GetSlaPolicy(
            pb.GetSlaPolicyRequest(name=listed.name)
        )
    resolve = await system.disputes.ListSlaPolicies(
        pb.ListSlaPoliciesRequest(filter="clock=RESOLVE AND active=true")
    )
    assert resolve.sla_policies
    assert [p.name for p in resolve.sla_policies] == [
        p.name for p in every.sla_policies if p.clock == pb.RESOLVE and p.active
    ]
    first = await system.disputes.ListSlaPolicies(pb.ListSlaPoliciesRequest(page_size=1))
    assert [p.name for p in first.sla_policies] == [every.sla_policies[0].name]
    assert first.next_page_token
