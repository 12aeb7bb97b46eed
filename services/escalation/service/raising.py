"""RaiseEscalation and RaiseEscalations: by a person or a rule, idempotent by request id, one open
escalation per subject and team, severity never lowered.

A raise is a batch of one. A batch is one transaction of set-based statements, about ten however
many items it holds: the keys already used, the open escalations of every (subject, team) (locked),
one multi-row insert per table, one publication. Each item is answered alone, with its escalation
or its own error, so one bad item does not hold up the others. A batch is worked under one span
linked to each item's trace (the producer's outbox event: raise_telemetry.py); each new
escalation, and its RecordEscalation event, remembers its item's trace.

Each row is written one way (docs/architecture.md): the batch is folded in memory, so a new
escalation that later items raise again is inserted once, as it ends up, by the Core insert (a
plain draft of its row, never an ORM object); an escalation that was already open is changed
through the unit of work; every history entry and every outbox event is one row of the batch's
Core insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import current_actor
from common.errors import AlreadyExists, DomainError, NotFound, PermissionDenied
from common.idempotency import RequestKey, key_reused, mark_replayed_items
from common.ids import new_id
from common.tracing import about, current_traceparent
from services.escalation.data import raise_batch, rows
from services.escalation.data.models import EscalationRow
from services.escalation.domain import ola
from services.escalation.domain.commands import Raise
from services.escalation.domain.routing import Decision, Facts, route
from services.escalation.domain.values import Severity, State
from services.escalation.outbound import disputes
from services.escalation.service import clocks, journal, milestones, raise_telemetry
from services.escalation.service.context import EscalationContext, Touched
from services.escalation.service.rules import active_rules

SCOPE = "RaiseEscalation"
# Two raises for the same subject and team may race past the open-escalation lookup; the unique
# index stops the second, which then runs again and finds the first. Bounded, never a loop.
_RACE_RETRIES = 3


@dataclass(frozen=True)
class RaiseItem:
    cmd: Raise
    request: RequestKey
    # A batch item's trace (the producer's; may be empty): a link of the batch's span.
    # None: the item is the whole request and the current span is its own.
    traceparent: str | None = None


Outcome = journal.EscalationView | DomainError


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


def _refusal(cmd: Raise) -> DomainError | None:
    try:
        _check_raiser(cmd)
    except DomainError as error:
        return error
    return None


async def raise_escalation(
    ctx: EscalationContext, cmd: Raise, request: RequestKey
) -> journal.EscalationView:
    (outcome,) = await raise_escalations(ctx, [RaiseItem(cmd, request)])
    if isinstance(outcome, DomainError):
        raise outcome
    about(escalation_id=outcome.row.id)
    return outcome


async def raise_escalations(ctx: EscalationContext, items: Sequence[RaiseItem]) -> list[Outcome]:
    """Every item raised in one transaction; the answers in the items' order."""
    if not items:
        return []
    refused = [_refusal(item.cmd) for item in items]
    keys = [item.request.key for item in items]
    with raise_telemetry.batch_spans(keys, [item.traceparent for item in items]) as spans:
        for attempt in range(_RACE_RETRIES):
            batch = _Batch(ctx, items, refused)
            try:
                async with ctx.db.transaction() as session:
                    touched = await batch.run(session)
                break
            except AlreadyExists:  # a concurrent batch took a key or opened an escalation first
                if attempt == _RACE_RETRIES - 1:
                    raise
        if spans is not None:
            spans.outcomes(batch.outcomes)
    ctx.signals.changed(touched)
    return batch.outcomes  # type: ignore[return-value]


class _Batch:
    """One attempt at a batch: a retry after a lost race starts a new one."""

    def __init__(self, ctx: EscalationContext, items: Sequence[RaiseItem], refused: list):
        self.ctx, self.items = ctx, items
        self.outcomes: list[Outcome | None] = list(refused)
        self.now = ctx.clock.now()
        self.actor = current_actor().subject
        self.history: list[dict] = []  # every entry of the batch, inserted at once
        self.created: list[rows.Draft] = []  # new escalations, built here, inserted at once
        self.outbox: list[dict] = []  # their RecordEscalation events, inserted at once
        self.events: list[tuple[str, journal.EscalationView]] = []

    async def run(self, session: AsyncSession) -> Touched:
        todo, replays, copies = await self._check_keys(session)
        mark_replayed_items([*replays, *copies], of=len(self.items))
        rules = await active_rules(self.ctx, session)
        decisions: dict[int, Decision] = {}
        for i in todo:
            cmd = self.items[i].cmd
            try:
                decisions[i] = route(
                    rules,
                    Facts(cmd.reason_code, cmd.attributes, cmd.amount),
                    cmd.team,
                    cmd.severity,
                )
            except DomainError as error:
                self.outcomes[i] = error
        routed = [i for i in todo if i in decisions]
        await self._raise_all(session, routed, decisions)
        await raise_batch.insert_escalations(session, self.created)
        await raise_batch.insert_history(session, self.history)
        await raise_batch.insert_outbox(session, self.outbox)
        await self._store_keys(session, routed)
        await self._replay(session, replays)
        touched = await journal.publish(session, self.ctx, self.events, self.now)  # last: locks
        for i, first in copies.items():
            self.outcomes[i] = self.outcomes[first]
        return touched

    async def _check_keys(self, session: AsyncSession):
        """Items to raise; items answered by an earlier raise (index -> escalation id); items
        repeating a key of this batch (index -> the first's index)."""
        pending = [i for i, outcome in enumerate(self.outcomes) if outcome is None]
        keys = [self.items[i].request.key for i in pending if self.items[i].request.present]
        earlier = await self.ctx.idempotency.find_many(session, SCOPE, keys)
        todo: list[int] = []
        replays: dict[int, str] = {}
        copies: dict[int, int] = {}
        first: dict[str, int] = {}
        for i in pending:
            request = self.items[i].request
            if not request.present:
                todo.append(i)
                continue
            if request.key in earlier:
                used = earlier[request.key]
                fingerprint, resource_id = used.fingerprint, used.resource_id
            elif request.key in first:
                fingerprint, resource_id = self.items[first[request.key]].request.fingerprint, None
            else:
                first[request.key] = i
                todo.append(i)
                continue
            if fingerprint != request.fingerprint:
                self.outcomes[i] = key_reused()
            elif resource_id is None:
                copies[i] = first[request.key]
            else:
                replays[i] = resource_id
        return todo, replays, copies

    async def _raise_all(self, session: AsyncSession, routed: list[int], decisions) -> None:
        """The items in the order they came: the first for a (subject, team) with nothing open
        creates its escalation; later ones raise again whatever is open by then."""
        pairs = [(self.items[i].cmd.subject, decisions[i].team.value) for i in routed]
        open_rows = await raise_batch.open_escalations(session, sorted(set(pairs)))
        for i, pair in zip(routed, pairs, strict=True):
            item = self.items[i]
            try:
                row = open_rows.get(pair)
                if row is None:
                    row, view = await self._create(session, item, decisions[i])
                    open_rows[pair] = row
                    self.events.append(("escalation.raised", view))
                else:
                    view = await self._raise_again(session, row, item.cmd, decisions[i])
            except DomainError as error:
                self.outcomes[i] = error
                continue
            self.outcomes[i] = view

    async def _store_keys(self, session: AsyncSession, raised: list[int]) -> None:
        """The keys of the items raised, with what they made; a concurrent twin of one of them
        fails here (or earlier, on the open-escalation index) and its batch runs again."""
        done = []
        for i in raised:
            outcome, request = self.outcomes[i], self.items[i].request
            if request.present and isinstance(outcome, journal.EscalationView):
                done.append((request, outcome.row.id))
        await self.ctx.idempotency.record_many(session, SCOPE, done)

    async def _replay(self, session: AsyncSession, replays: dict[int, str]) -> None:
        found = await raise_batch.escalations_by_id(session, sorted(set(replays.values())))
        for i, escalation_id in replays.items():
            row = found.get(escalation_id)
            self.outcomes[i] = (
                await journal.view_of(session, self.ctx, row, self.now)
                if row is not None
                else NotFound(f"escalation {escalation_id} does not exist")
            )

    async def _create(
        self, session: AsyncSession, item: RaiseItem, decision: Decision
    ) -> tuple[rows.Draft, journal.EscalationView]:
        """A new escalation, drafted for the batch's Core insert (never added to the session). It
        remembers its item's trace (the producer's), or the call's; so does its RecordEscalation
        event, which the case's history entry then joins."""
        ctx, now, cmd = self.ctx, self.now, item.cmd
        team, severity = decision.team.value, decision.severity
        cal = await ctx.calendars.for_team(session, team)
        target = await clocks.target_for(session, team, int(severity), ctx.reference)
        origin = raise_telemetry.producer_traceparent(item.traceparent) or current_traceparent()
        escalation_id = new_id()
        clock = rows.Draft(escalation_id=escalation_id, team=team)
        row = rows.new_escalation(
            clock,
            id=escalation_id,
            subject=cmd.subject,
            team=team,
            reason_code=cmd.reason_code,
            severity=int(severity),
            summary=cmd.summary or cmd.reason_code,
            amount_minor=cmd.amount.minor if cmd.amount else None,
            amount_currency=cmd.amount.currency if cmd.amount else None,
            raised_by=cmd.raised_by or self.actor,
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
            origin_traceparent=origin,
            response_due_at=None,
            version=1,
            created_at=now,
            updated_at=now,
            closed_at=None,
        )
        clocks.store(row, ola.start(target, now), (), cal)
        recorded = disputes.record_team(ctx.outbox, row, now, origin)  # the case's team sees it
        if recorded is not None:
            self.outbox.append(recorded)
        details = {
            "raised_by": row.raised_by,
            "reason_code": cmd.reason_code,
            "severity": severity.name,
            "trigger_event_id": cmd.trigger_event_id,
            "routing_rule": f"routingRules/{decision.rule_id}" if decision.rule_id else "",
            "target_minutes": row.clock.target_minutes,
        }
        self.history.append(rows.history(row, "RAISED", self.actor, now, details=details))
        self.created.append(row)
        return row, await journal.view_of(session, ctx, row, now, cal)

    async def _raise_again(
        self,
        session: AsyncSession,
        row: EscalationRow | rows.Draft,
        cmd: Raise,
        decision: Decision,
    ) -> journal.EscalationView:
        """A raise for an escalation already open for the subject and team (open before the
        batch, or made by an earlier item of it). A new reason (an SLA breach after its warning,
        say) is news to the team: the escalation takes it, rises to the routed severity if that
        is higher, and its update time, history, watchers and webhooks all show it. The same
        reason at no higher severity changes nothing but is recorded."""
        ctx, now, actor = self.ctx, self.now, self.actor
        cal = await ctx.calendars.for_team(session, row.team)
        details = {
            "raised_by": cmd.raised_by or actor,
            "reason_code": cmd.reason_code,
            "trigger_event_id": cmd.trigger_event_id,
            "requested_severity": decision.severity.name,
        }
        rises = decision.severity > row.severity  # never down
        if not rises and cmd.reason_code == row.reason_code:
            self._record(row, "RAISED_AGAIN", details)
            return await journal.view_of(session, ctx, row, now, cal)
        # Read before anything changes: an item that fails here leaves its row as it was.
        if rises:
            target = await clocks.target_for(
                session, row.team, int(decision.severity), ctx.reference
            )
        fired = milestones.fire_due(row, cal, now)
        self.history += fired.history
        if cmd.reason_code != row.reason_code:
            details["from_reason_code"] = row.reason_code
            row.reason_code = cmd.reason_code
        row.version += 1
        row.updated_at = now
        if not rises:
            self._record(row, "RAISED_AGAIN", details)
            view = await journal.view_of(session, ctx, row, now, cal)
            self.events += [(t, view) for t in (*fired.events, "escalation.raised_again")]
            return view
        before = Severity(row.severity)
        row.severity = int(decision.severity)
        clock = ola.retarget(clocks.to_clock(row.clock), cal, target, now)
        clocks.store(row, clock, clocks.fired_of(row.clock), cal)
        self._record(
            row,
            "SEVERITY_RAISED",
            {
                **details,
                "from": before.name,
                "to": decision.severity.name,
                "target_minutes": row.clock.target_minutes,
            },
        )
        # A retarget can bring milestones into the past: they fire now, not at the next sweep.
        refired = milestones.fire_due(row, cal, now)
        self.history += refired.history
        view = await journal.view_of(session, ctx, row, now, cal)
        events = (*fired.events, *refired.events, "escalation.severity_raised")
        self.events += [(t, view) for t in events]
        return view

    def _record(self, row: EscalationRow | rows.Draft, action: str, details: dict) -> None:
        self.history.append(
            rows.history(row, action, self.actor, self.now, from_state=row.state, details=details)
        )
