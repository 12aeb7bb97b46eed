"""RecordEscalation and RecordEscalations: the escalation service reports which team a new
escalation of a case went to (through its outbox); from then on that team's people see and work
the case (service/team_access.py). Applied once per event id; the case's version (etag) is left
alone: a report arrives moments after a collector's `:escalate`, and must not make their next
action fail with ABORTED.

A record is a batch of one. A batch is one transaction of set-based statements, the same handful
however many items it holds (data/escalation_records.py): the cases locked, the keys already used,
the teams the cases have, one INSERT per table. Each item is answered alone, with its case's id
and version or its own error, so one bad item does not hold up the others. Its history entry
belongs to the trace the item came with (the escalation's outbox delivery, in the breach's trace).

Only Settle's services call this, and they are never team-scoped (common/team_scope.py), so the
cases are looked up as they are, without the team check of `team_access.visible_case`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import current_actor
from common.errors import AlreadyExists, DomainError, PermissionDenied
from common.idempotency import RequestKey, key_reused, mark_replayed_items
from services.disputes.data import escalation_records as records
from services.disputes.data import repository as repo
from services.disputes.data import rows
from services.disputes.service.context import DisputesContext

SCOPE = "RecordEscalation"
KIND = "ESCALATION_RECORDED"


@dataclass(frozen=True)
class RecordItem:
    case_id: str
    escalation: str  # "escalations/{id}"
    team: str
    request: RequestKey
    # The trace the item continues (its producer's delivery), for its history entry; None: the
    # current span's.
    traceparent: str | None = None


@dataclass(frozen=True)
class Recorded:
    """All a relay needs back: the case's id and version (its etag)."""

    id: str  # the case's
    version: int


Outcome = Recorded | DomainError


async def record_escalation(ctx: DisputesContext, item: RecordItem) -> Recorded:
    (outcome,) = await record_escalations(ctx, [item])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def record_escalations(ctx: DisputesContext, items: Sequence[RecordItem]) -> list[Outcome]:
    """Every item recorded in one transaction; the answers in the items' order."""
    caller = current_actor()
    if not caller.has_role("service"):
        raise PermissionDenied("only Settle's services record escalations", reason="SERVICE_ONLY")
    if not items:
        return []
    for attempt in range(2):
        try:
            async with ctx.db.transaction() as session:
                return await _Batch(ctx, items, caller.subject).run(session)
        except AlreadyExists:  # a concurrent twin recorded one of the keys first: it is found now
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


class _Batch:
    def __init__(self, ctx: DisputesContext, items: Sequence[RecordItem], actor: str):
        self.ctx, self.items, self.actor = ctx, items, actor
        self.now = ctx.clock.now()
        self.outcomes: list[Outcome] = []
        self.replayed: list[int] = []
        self.done: list[tuple[RequestKey, str]] = []  # keys used now, with the case they name
        self.grants = records.Grants()

    async def run(self, session: AsyncSession) -> list[Outcome]:
        # Locked first: a twin of this batch (same keys) then waits here, and finds the keys.
        versions = await records.lock_cases(session, {item.case_id for item in self.items})
        earlier = await self.ctx.idempotency.find_many(
            session, SCOPE, {item.request.key for item in self.items}
        )
        held = await records.teams_of(session, versions)
        first: dict[str, int] = {}  # key -> the index of the item of this batch that used it
        for i, item in enumerate(self.items):
            key = item.request.key
            if key in earlier or key in first:
                # Used before (an earlier call, or an earlier item of this one): its answer, if
                # this is the same request; a key reused for other content is refused.
                used = earlier[key] if key in earlier else self.items[first[key]].request
                if used.fingerprint != item.request.fingerprint:
                    self.outcomes.append(key_reused())
                    continue
                self.replayed.append(i)
                self.outcomes.append(
                    _case(earlier[key].resource_id, versions)
                    if key in earlier
                    else self.outcomes[first[key]]
                )
            else:
                first[key] = i
                self.outcomes.append(self._record(item, versions, held))
        await records.write(session, self.grants)
        await self.ctx.idempotency.record_many(session, SCOPE, self.done)
        mark_replayed_items(self.replayed, of=len(self.items))
        return self.outcomes

    def _record(
        self, item: RecordItem, versions: dict[str, int], held: dict[tuple[str, str], str]
    ) -> Outcome:
        case = _case(item.case_id, versions)
        if isinstance(case, DomainError):
            return case
        pair = (item.case_id, item.team)
        granted = pair not in held
        if granted:
            self.grants.new_teams.append(
                rows.team_row(item.case_id, item.team, item.escalation, self.now)
            )
            held[pair] = item.escalation
        elif not held[pair]:  # granted by `:escalate`; now the escalation is known
            self.grants.named[pair] = held[pair] = item.escalation
        self.grants.history.append(
            rows.history_values(
                case,
                KIND,
                self.actor,
                self.now,
                details={
                    "escalation": item.escalation,
                    "team": item.team,
                    "granted": str(granted).lower(),
                },
                traceparent=item.traceparent,
            )
        )
        self.done.append((item.request, item.case_id))
        return case


def _case(case_id: str, versions: dict[str, int]) -> Outcome:
    version = versions.get(case_id)
    return repo.missing_dispute(case_id) if version is None else Recorded(case_id, version)
