"""The receiving team's work on an escalation: claim, assign, ask for information (and get it),
respond, hand back, resolve. One use case, driven by the transition table; one transaction each."""

from __future__ import annotations

import json
from datetime import datetime

from common.actor import Actor, current_actor
from common.errors import InvalidArgument
from common.etag import check_etag
from common.tracing import about
from services.escalation.data import repository as repo
from services.escalation.data.models import EscalationRow
from services.escalation.domain import ola
from services.escalation.domain.commands import Act
from services.escalation.domain.states import Action, ClockEffect, transition
from services.escalation.domain.values import State
from services.escalation.outbound import disputes
from services.escalation.service import access, clocks, journal, milestones
from services.escalation.service.context import EscalationContext

# action → (history action, event type)
NAMES = {
    Action.CLAIM: ("CLAIMED", "escalation.claimed"),
    Action.ASSIGN: ("ASSIGNED", "escalation.assigned"),
    Action.REQUEST_INFO: ("INFO_REQUESTED", "escalation.info_requested"),
    Action.PROVIDE_INFO: ("INFO_PROVIDED", "escalation.info_provided"),
    Action.RESPOND: ("RESPONDED", "escalation.responded"),
    Action.HAND_BACK: ("HANDED_BACK", "escalation.handed_back"),
    Action.RESOLVE: ("RESOLVED", "escalation.resolved"),
}
CLOCK_HISTORY = {
    ClockEffect.PAUSE: "OLA_PAUSED",
    ClockEffect.RESUME: "OLA_RESUMED",
    ClockEffect.MEET: "OLA_MET",
}


def _authorize(row: EscalationRow, action: Action) -> Actor:
    resource = f"escalation {row.id}"
    if action is Action.PROVIDE_INFO:  # the raiser's side: whoever may see the escalation
        access.check_visible(row.team, resource)
        return current_actor()
    return access.check_can_work(row.team, resource)


def _apply(row: EscalationRow, cmd: Act, actor: Actor) -> dict:
    """Writes the action's fields; returns what the history entry should say."""
    a = cmd.action
    if a is Action.CLAIM:
        row.assignee = actor.subject
        return {"assignee": actor.subject}
    if a is Action.ASSIGN:
        before, row.assignee = row.assignee, cmd.assignee
        return {"from": before, "to": cmd.assignee}
    if a is Action.REQUEST_INFO:
        row.info_request, row.info_response = cmd.text, ""
        return {}  # the question itself is free text: it stays on the escalation, not in logs
    if a is Action.PROVIDE_INFO:
        row.info_response = cmd.text
        return {"evidence_links": " ".join(cmd.evidence_links)}
    outcome = cmd.outcome_code or (row.outcome_code if a is Action.RESOLVE else "")
    if not outcome:
        raise InvalidArgument.of("outcome_code", "is required: the team has not responded yet")
    row.outcome_code = outcome
    if cmd.note or a is not Action.RESOLVE:
        row.note = cmd.note
    if cmd.evidence_links or a is not Action.RESOLVE:
        row.evidence_links = json.dumps(list(cmd.evidence_links))
    if cmd.outcome_code or not row.answered_by:
        # A resolve that only confirms the team's response leaves the answer its responder's.
        row.answered_by = actor.subject
    return {"outcome_code": outcome, "evidence_links": len(json.loads(row.evidence_links))}


async def act(ctx: EscalationContext, escalation_id: str, cmd: Act) -> journal.EscalationView:
    about(escalation_id=escalation_id)
    async with ctx.db.transaction() as session:
        row = await repo.get_escalation(session, escalation_id, for_update=True)
        actor = _authorize(row, cmd.action)
        check_etag(cmd.etag, row.id, row.version)
        now = ctx.clock.now()
        cal = await ctx.calendars.for_team(session, row.team)
        state = State(row.state)
        if cmd.action is Action.CLAIM and state is State.CLAIMED and row.assignee == actor.subject:
            return await journal.view_of(session, ctx, row, now, cal)  # claiming twice: no-op
        step = transition(state, cmd.action)
        details = _apply(row, cmd, actor)
        fired = milestones.fire_due(row, cal, now)  # before the clock changes
        journal.add_history(session, fired.history)
        _move_clock(session, row, cal, step.clock, actor.subject, now)
        row.state = step.to.value
        row.version += 1
        row.updated_at = now
        if step.to.closed:
            row.closed_at = now
            details["notified_event_id"] = disputes.tell_owner(session, ctx.outbox, row)
        history_action, event_type = NAMES[cmd.action]
        journal.record(
            session,
            row,
            history_action,
            actor.subject,
            now,
            from_state=state.value,
            details=details,
        )
        view = await journal.view_of(session, ctx, row, now, cal)
        events = [(t, view) for t in (*fired.events, event_type)]
        touched = await journal.publish(session, ctx, events, now)
    ctx.signals.changed(touched)
    return view


def _move_clock(session, row: EscalationRow, cal, effect: ClockEffect, actor: str, now: datetime):
    before = clocks.to_clock(row.clock)
    after = ola.apply(before, cal, effect, now)
    if after == before:
        return
    clocks.store(row, after, clocks.fired_of(row.clock), cal)
    left = ola.remaining(after, cal, now)
    journal.record(
        session,
        row,
        CLOCK_HISTORY[effect],
        actor,
        now,
        from_state=row.state,
        details={"remaining_minutes": int(left.total_seconds() // 60)},
    )
