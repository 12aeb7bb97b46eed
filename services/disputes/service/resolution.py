"""Resolving a case: a root cause and an outcome; the money goes where the outcome says, in the
same transaction as the status change (ledger effects and releases through the outbox). Its
time-to-resolve is counted once that transaction has committed."""

from __future__ import annotations

from common.errors import InvalidArgument
from common.etag import check_etag
from services.disputes.data import repository as repo
from services.disputes.domain.status import Action
from services.disputes.domain.waterfall import Decision, Outcome, settlements
from services.disputes.service.clock_rows import current
from services.disputes.service.context import DisputesContext
from services.disputes.service.team_access import visible_case
from services.disputes.service.views import DisputeView, view_of
from services.disputes.service.workflow import apply_settlements, move


async def resolve(
    ctx: DisputesContext,
    dispute_id: str,
    etag: str,
    root_cause_code: str,
    outcome: Outcome,
    comment: str,
    decisions: tuple[Decision, ...],
) -> DisputeView:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, lock=True)
        check_etag(etag, case.id, case.version)
        cause = await repo.root_cause(session, root_cause_code)
        if cause is None or not cause.active:
            state = "is not a root cause" if cause is None else "is deactivated"
            raise InvalidArgument.of("root_cause_code", f"{root_cause_code!r} {state}")
        reason = await repo.reason_code(session, case.reason_code)
        if (cause.requires_note or (reason and reason.requires_note)) and not comment:
            raise InvalidArgument.of(
                "comment", "is required to resolve with this reason or root cause"
            )
        still = {i.invoice_id: i.still_minor for i in case.items}
        plan = settlements(outcome, still, decisions)
        m = await move(
            ctx,
            session,
            case,
            Action.RESOLVE,
            comment,
            details={
                "root_cause": cause.code,
                "owning_team": cause.owning_team,
                "outcome": outcome.value,
            },
        )
        case.root_cause_code, case.outcome, case.resolved_at = cause.code, outcome.value, m.now
        apply_settlements(ctx, m, plan, cause.code)
        view = await view_of(session, ctx.calendars, case, m.now)
        resolve_clock = next((r for r in current(case.clocks) if r.kind == "RESOLVE"), None)
        took = (m.now - case.created_at).total_seconds()
        labels = dict(
            reason=case.reason_code,
            team=cause.owning_team,
            policy=resolve_clock.policy_id if resolve_clock else "",
            outcome=outcome.value,
        )
    ctx.changed()
    ctx.metrics.time_to_resolve(took, **labels)
    return view
