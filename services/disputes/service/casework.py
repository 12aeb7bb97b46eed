"""Reading cases, their history, and the changes that are not status moves: notes, evidence,
field updates (a priority change re-targets the clocks), and escalation answers."""

from __future__ import annotations

from dataclasses import dataclass

from common.actor import current_actor
from common.errors import FailedPrecondition
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.listing import Page, Term
from services.disputes.data import repository as repo
from services.disputes.data import rows
from services.disputes.data.models import EvidenceRow, HistoryRow, NoteRow
from services.disputes.domain.policies import PRIORITY_RANK, Priority
from services.disputes.domain.status import ACTIVE, Action, Status
from services.disputes.service import history
from services.disputes.service.clocks import ClockDesk
from services.disputes.service.context import DisputesContext
from services.disputes.service.firing_telemetry import Firing, count
from services.disputes.service.team_access import read_case, visible_case, visible_cases
from services.disputes.service.views import DisputeView, view_of, views_of
from services.disputes.service.workflow import move

UPDATABLE = ("title", "priority", "external_ref", "coordinator")


# Reads for display are one statement each (data/reads.py): no transaction.


async def get_dispute(ctx: DisputesContext, dispute_id: str) -> DisputeView:
    async with ctx.db.reading_connection() as conn:
        case = await read_case(conn, dispute_id)
        return await view_of(conn, ctx.calendars, case, ctx.clock.now())


async def list_disputes(
    ctx: DisputesContext, terms: list[Term], order, page: Page
) -> list[DisputeView]:
    async with ctx.db.reading_connection() as conn:
        cases = await repo.list_disputes(conn, terms, order, page, team=visible_cases())
        return await views_of(conn, ctx.calendars, cases, ctx.clock.now())


async def list_history(ctx: DisputesContext, dispute_id: str, page: Page) -> list[HistoryRow]:
    async with ctx.db.transaction() as session:
        await visible_case(session, dispute_id, options=())
        return await repo.history(session, dispute_id, page)


async def add_note(ctx: DisputesContext, dispute_id: str, text: str) -> NoteRow:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, lock=True, options=())
        now, actor = ctx.clock.now(), current_actor().subject
        note = rows.note_row(case.id, text, actor, now)
        session.add(note)
        case.version, case.updated_at = case.version + 1, now
        history.record(
            session, case, "NOTE_ADDED", actor, now, comment=text, details={"note": note.id}
        )
        return note


async def add_evidence(
    ctx: DisputesContext, dispute_id: str, uri: str, description: str
) -> EvidenceRow:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, lock=True, options=())
        now, actor = ctx.clock.now(), current_actor().subject
        row = rows.evidence_row(case.id, uri, description, actor, now)
        session.add(row)
        case.version, case.updated_at = case.version + 1, now
        history.record(
            session,
            case,
            "EVIDENCE_ADDED",
            actor,
            now,
            comment=description,
            details={"evidence": row.id, "uri": uri},
        )
        return row


@dataclass(frozen=True)
class DisputeChanges:
    title: str = ""
    priority: Priority = Priority.MEDIUM
    external_ref: str = ""
    coordinator: str = ""


async def update_dispute(
    ctx: DisputesContext, dispute_id: str, etag: str, data: DisputeChanges, fields: tuple[str, ...]
) -> DisputeView:
    async with ctx.db.transaction() as session:
        case = await visible_case(session, dispute_id, lock=True)
        check_etag(etag, case.id, case.version)
        if Status(case.status) not in ACTIVE:
            raise FailedPrecondition(f"a {case.status} case cannot be changed", reason="CASE_FINAL")
        now, actor = ctx.clock.now(), current_actor().subject
        changed = {
            f: (getattr(case, f), getattr(data, f))
            for f in fields
            if getattr(case, f) != getattr(data, f)
        }
        desk = ClockDesk(ctx, session, case, now, actor)
        if "priority" in changed:  # re-targets: what is due fires as of the case before it
            await desk.load()
            await desk.fire_due()
        for name, (_, new) in changed.items():
            setattr(case, name, new.value if isinstance(new, Priority) else new)
        case.priority_rank = PRIORITY_RANK[Priority(case.priority)]
        case.version, case.updated_at = case.version + 1, now
        history.record(
            session,
            case,
            "UPDATED",
            actor,
            now,
            details={f"{k}": f"{old} -> {new}" for k, (old, new) in changed.items()},
        )
        if "priority" in changed:
            await desk.retarget(await repo.active_policies(session))
        view = await view_of(session, ctx.calendars, case, now)
    count(ctx.metrics, desk.firings)
    ctx.changed()
    return view


@dataclass(frozen=True)
class EscalationAnswer:
    escalation: str
    team: str
    kind: str  # RESOLVED | HANDED_BACK
    outcome_code: str
    note: str
    evidence_links: tuple[str, ...]
    answered_by: str


async def apply_escalation_answer(
    ctx: DisputesContext, dispute_id: str, answer: EscalationAnswer, request: RequestKey
) -> DisputeView:
    """Recorded whatever the case's status (the relay must not retry forever); only a
    PENDING_INTERNAL case moves back to IN_PROGRESS."""
    fired: list[Firing] = []  # by the committed attempt, counted once it has committed

    async def create(session):
        fired.clear()
        case = await visible_case(session, dispute_id, lock=True)
        # The actor is who called (the escalation service); `answered_by`, the person who
        # answered there.
        details = {
            "escalation": answer.escalation,
            "team": answer.team,
            "answer": answer.kind,
            "outcome_code": answer.outcome_code,
            "answered_by": answer.answered_by,
        }
        actor = current_actor().subject
        author = answer.answered_by or actor  # of the note and evidence the answer brings
        now = ctx.clock.now()
        if Status(case.status) is Status.PENDING_INTERNAL:
            m = await move(
                ctx,
                session,
                case,
                Action.ANSWER,
                answer.note,
                details=details,
                kind="ESCALATION_ANSWERED",
            )
            fired.extend(m.firings)
        else:
            case.version, case.updated_at = case.version + 1, now
            history.record(
                session,
                case,
                "ESCALATION_ANSWERED",
                actor,
                now,
                comment=answer.note,
                details=details,
            )
        if answer.note:
            case.notes.append(rows.note_row(case.id, answer.note, author, now))
        for link in answer.evidence_links:
            case.evidence.append(
                rows.evidence_row(case.id, link, f"from {answer.escalation}", author, now)
            )
        await session.flush()
        return case.id, await view_of(session, ctx.calendars, case, now)

    async def replay(session, case_id: str) -> DisputeView:
        case = await visible_case(session, case_id)
        return await view_of(session, ctx.calendars, case, ctx.clock.now())

    result = await run_once(
        ctx.db, ctx.idempotency, "ApplyEscalationAnswer", request, create, replay
    )
    count(ctx.metrics, fired)
    ctx.changed()
    return result
