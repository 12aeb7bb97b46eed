"""RaiseEscalation: by a person or a rule, idempotent by request id, one open escalation per
subject and team, severity never lowered."""

from __future__ import annotations

import json

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import current_actor
from common.errors import PermissionDenied
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.tracing import about, current_traceparent
from services.escalation import repository as repo
from services.escalation.domain import ola
from services.escalation.domain.commands import Raise
from services.escalation.domain.routing import Decision, Facts, route
from services.escalation.domain.values import Severity, State
from services.escalation.models import EscalationRow, ResponseClockRow
from services.escalation.service import clocks, dispute_teams, journal, milestones
from services.escalation.service.context import EscalationContext
from services.escalation.service.rules import active_rules

SCOPE = "RaiseEscalation"
# Two raises for the same subject and team may race past the open-escalation lookup; the unique
# index stops the second, which then runs again and finds the first. Bounded, never a loop.
_RACE_RETRIES = 3


def _check_raiser(cmd: Raise) -> None:
    """Only Settle's services raise for a rule or on someone's behalf: a person who names another
    raiser, or a triggering event, would falsify the audit trail."""
    caller = current_actor()
    if caller.has_role("service"):
        return
    if (cmd.raised_by and cmd.raised_by != caller.subject) or cmd.trigger_event_id:
        raise PermissionDenied(
            "people raise escalations as themselves; raised_by and trigger_event_id are for "
            "Settle's rules",
            reason="RAISER_NOT_CALLER",
        )


async def raise_escalation(
    ctx: EscalationContext, cmd: Raise, request: RequestKey
) -> journal.EscalationView:
    _check_raiser(cmd)
    actor = current_actor().subject
    changes = [journal.Touched()]  # a replay changes nothing

    async def create(session: AsyncSession):
        rules = await active_rules(ctx, session)
        facts = Facts(cmd.reason_code, cmd.attributes, cmd.amount)
        decision = route(rules, facts, cmd.team, cmd.severity)
        existing = await repo.open_escalation(session, cmd.subject, decision.team.value)
        if existing is not None:
            done = existing.id, await _raise_again(session, ctx, existing, cmd, decision, actor)
        else:
            done = await _create(session, ctx, cmd, decision, actor)
        changes.append(journal.touched(session))
        return done

    async def replay(session: AsyncSession, escalation_id: str):
        row = await repo.get_escalation(session, escalation_id)
        return await journal.view_of(session, ctx, row, ctx.clock.now())

    for attempt in range(_RACE_RETRIES):
        try:
            view = await run_once(ctx.db, ctx.idempotency, SCOPE, request, create, replay)
            break
        except IntegrityError:
            if attempt == _RACE_RETRIES - 1:
                raise
    ctx.signals.changed(changes[-1])
    about(escalation_id=view.row.id)
    return view


async def _create(
    session: AsyncSession, ctx: EscalationContext, cmd: Raise, decision: Decision, actor: str
):
    now = ctx.clock.now()
    team, severity = decision.team.value, decision.severity
    cal = await ctx.calendars.for_team(session, team)
    target = await clocks.target_for(session, team, int(severity), ctx.reference)
    row = EscalationRow(
        id=new_id(),
        subject=cmd.subject,
        team=team,
        reason_code=cmd.reason_code,
        severity=int(severity),
        summary=cmd.summary or cmd.reason_code,
        amount_minor=cmd.amount.minor if cmd.amount else None,
        amount_currency=cmd.amount.currency if cmd.amount else None,
        raised_by=cmd.raised_by or actor,
        trigger_event_id=cmd.trigger_event_id,
        attributes=json.dumps(dict(sorted(cmd.attributes.items()))),
        state=State.OPEN.value,
        assignee="",
        info_request="",
        info_response="",
        outcome_code="",
        note="",
        evidence_links="[]",
        answered_by="",
        routing_rule_id=decision.rule_id,
        origin_traceparent=current_traceparent(),
        version=1,
        created_at=now,
        updated_at=now,
    )
    row.clock = ResponseClockRow(escalation_id=row.id, team=team, fired="")
    clocks.store(row, ola.start(target, now), (), cal)
    session.add(row)
    dispute_teams.record_team(session, ctx, row)  # the case's team sees it (contracts.md)
    journal.record(
        session,
        row,
        "RAISED",
        actor,
        now,
        details={
            "raised_by": row.raised_by,
            "reason_code": cmd.reason_code,
            "severity": severity.name,
            "trigger_event_id": cmd.trigger_event_id,
            "routing_rule": f"routingRules/{decision.rule_id}" if decision.rule_id else "",
            "target_minutes": row.clock.target_minutes,
        },
    )
    view = await journal.view_of(session, ctx, row, now, cal)
    await journal.publish(session, ctx, [("escalation.raised", view)], now)
    return row.id, view


async def _raise_again(
    session: AsyncSession,
    ctx: EscalationContext,
    row: EscalationRow,
    cmd: Raise,
    decision: Decision,
    actor: str,
) -> journal.EscalationView:
    now = ctx.clock.now()
    cal = await ctx.calendars.for_team(session, row.team)
    details = {
        "raised_by": cmd.raised_by or actor,
        "reason_code": cmd.reason_code,
        "trigger_event_id": cmd.trigger_event_id,
        "requested_severity": decision.severity.name,
    }
    if decision.severity <= row.severity:  # never down; equal changes nothing but is recorded
        journal.record(
            session, row, "RAISED_AGAIN", actor, now, from_state=row.state, details=details
        )
        return await journal.view_of(session, ctx, row, now, cal)
    fired = milestones.fire_due(session, row, cal, now)
    before = Severity(row.severity)
    row.severity = int(decision.severity)
    row.version += 1
    row.updated_at = now
    target = await clocks.target_for(session, row.team, row.severity, ctx.reference)
    clock = ola.retarget(clocks.to_clock(row.clock), cal, target, now)
    clocks.store(row, clock, clocks.fired_of(row.clock), cal)
    journal.record(
        session,
        row,
        "SEVERITY_RAISED",
        actor,
        now,
        from_state=row.state,
        details={
            **details,
            "from": before.name,
            "to": decision.severity.name,
            "target_minutes": row.clock.target_minutes,
        },
    )
    # A retarget can bring milestones into the past: they fire now, not at the next sweep.
    fired += milestones.fire_due(session, row, cal, now)
    view = await journal.view_of(session, ctx, row, now, cal)
    types = [*fired, "escalation.severity_raised"]
    await journal.publish(session, ctx, [(t, view) for t in types], now)
    return view
