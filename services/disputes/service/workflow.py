"""Status changes of a case (:assign, :start, :pause, :resume, :escalate, :close, :withdraw,
:void, :reopen). Each is one transaction: etag check, transition, clocks, history, outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import current_actor
from common.etag import check_etag
from services.disputes.data import repository as repo
from services.disputes.data.models import DisputeRow
from services.disputes.domain.status import Action, ClockOp, Status, clock_changes, next_status
from services.disputes.domain.waterfall import Outcome, Settlement, Waterfall, release_all
from services.disputes.outbound import events
from services.disputes.service import history
from services.disputes.service.clocks import ClockDesk
from services.disputes.service.context import DisputesContext
from services.disputes.service.firing_telemetry import Firing, count
from services.disputes.service.team_access import grant, visible_case
from services.disputes.service.views import DisputeView, view_of

TEAMS = ("SALES", "GBS", "LEGAL", "TEAM_LEAD")


@dataclass(frozen=True)
class Escalation:
    reason_code: str
    team: str = ""
    summary: str = ""


@dataclass
class Move:
    """One status change in progress, inside the caller's transaction."""

    session: AsyncSession
    case: DisputeRow
    actor: str
    now: datetime
    before: Status
    after: Status
    firings: list[Firing]  # milestones that were due, fired first: counted once committed


async def move(
    ctx: DisputesContext,
    session: AsyncSession,
    case: DisputeRow,
    action: Action,
    comment: str,
    *,
    pause_reason: str | None = None,
    details: dict | None = None,
    kind: str = "STATUS_CHANGED",
) -> Move:
    """Transition, history row and clock changes; the case version goes up by one."""
    before = Status(case.status)
    after = next_status(before, action)
    now, actor = ctx.clock.now(), current_actor().subject
    desk = ClockDesk(ctx, session, case, now, actor)
    await desk.load()
    await desk.fire_due()  # as of the case before this change (its version, its status)
    changes = clock_changes(before, after, {k: r.status for k, r in desk.live().items()})
    needs_policies = any(c.op is ClockOp.RESTART for c in changes)
    policies = await repo.active_policies(session) if needs_policies else []
    case.version += 1
    case.status, case.updated_at = after.value, now
    case.pause_reason = pause_reason if after is Status.PENDING_CUSTOMER else None
    history.record(
        session,
        case,
        kind,
        actor,
        now,
        from_status=before.value,
        to_status=after.value,
        comment=comment,
        details={"action": action.value, **(details or {})},
    )
    await desk.apply(changes, pause_reason, policies)
    return Move(session, case, actor, now, before, after, desk.firings)


def apply_settlements(
    ctx: DisputesContext, m: Move, settlements: list[Settlement], reason_code: str
) -> None:
    """Moves money out of 'still disputed' per invoice (the waterfall checks itself) and writes
    the ledger effects and hold releases to the outbox."""
    items = {i.invoice_id: i for i in m.case.items}
    for s in settlements:
        item = items[s.invoice_id]
        fall = Waterfall(
            item.original_minor,
            item.still_minor,
            item.paid_minor,
            item.credited_minor,
            item.written_off_minor,
        ).settle(credit=s.credit, write_off=s.write_off, pay=s.pay)
        item.still_minor, item.paid_minor = fall.still, fall.paid
        item.credited_minor, item.written_off_minor = fall.credited, fall.written_off
        events.settle(ctx.outbox, m.session, m.case, s, reason_code)


async def transition(
    ctx: DisputesContext,
    dispute_id: str,
    etag: str,
    action: Action,
    comment: str = "",
    *,
    assignee: str = "",
    pause_reason: str | None = None,
    escalation: Escalation | None = None,
) -> DisputeView:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, lock=True)
        check_etag(etag, case.id, case.version)
        details, kind = {}, "STATUS_CHANGED"
        if action is Action.ASSIGN:
            details = {"assignee": assignee, "previous_assignee": case.assignee}
            kind = "ASSIGNED" if Status(case.status) is not Status.NEW else kind
            case.assignee = assignee
        if action is Action.PAUSE:
            details = {"pause_reason": pause_reason}
        if escalation is not None:
            details = {"team": escalation.team, "escalation_reason": escalation.reason_code}
        m = await move(
            ctx,
            session,
            case,
            action,
            comment,
            pause_reason=pause_reason,
            details=details,
            kind=kind,
        )
        if escalation is not None:
            events.escalate(
                ctx.outbox,
                session,
                case,
                reason_code=escalation.reason_code,
                summary=escalation.summary or case.title,
                raised_by=m.actor,
                team=escalation.team,
            )
            if escalation.team:  # the team sees the case now, not once the escalation reports
                await grant(session, case, escalation.team, "", m.now)
        if action in (Action.WITHDRAW, Action.VOID):
            still = {i.invoice_id: i.still_minor for i in case.items}
            apply_settlements(ctx, m, release_all(still), "")
            case.outcome = Outcome.WITHDRAWN.value if action is Action.WITHDRAW else None
        if action is Action.REOPEN:
            case.outcome, case.resolved_at = None, None
        view = await view_of(session, ctx.calendars, case, m.now)
    count(ctx.metrics, m.firings)
    ctx.changed()
    return view
