"""One pass of the promise evaluator: judge every OPEN promise whose deadline has passed, once,
in the transaction that claimed it (data/promise_batch.py), raise an escalation to the team
lead for each broken promise whose invoices reached the policy's level (broken_promises.py), and
take the judged promises out of their customers' worklist facts."""

from __future__ import annotations

from dataclasses import dataclass

from services.accounts.data import customer_facts, rows
from services.accounts.data import promise_batch as batch
from services.accounts.data import repository as repo
from services.accounts.domain import promises as rules
from services.accounts.domain.promises import PromiseState
from services.accounts.service import broken_promises
from services.accounts.service.context import AccountsContext

JUDGE = "rule:promise-evaluator"


@dataclass(frozen=True)
class Evaluation:
    judged: dict[str, int]  # state -> promises judged so in this pass
    escalated: int


async def evaluate_once(ctx: AccountsContext, limit: int) -> Evaluation:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        due = await batch.claim_due(session, now, limit)
        if not due:
            return Evaluation({}, 0)
        ids = [p.id for p in due]
        policy = await repo.promise_policy(session)
        paid, earlier = (
            await batch.paid(session, ids),
            await batch.earlier_instalments(session, ids),
        )
        judgements, events, broken, judged = [], [], [], {}
        for p in due:
            got = rules.paid_toward(paid.get(p.id, 0), earlier.get(p.id, 0))
            state = rules.judge(p.amount_minor, got, policy)
            judgements.append(dict(b_id=p.id, b_state=state.value, b_paid=got, b_now=now))
            events.append(
                rows.promise_event(p.id, p.customer_id, state.value, got, p.currency, JUDGE, now)
            )
            judged[state.value] = judged.get(state.value, 0) + 1
            if state is PromiseState.BROKEN:
                broken.append(p)
        await batch.write(session, judgements, events, [])
        escalated = await broken_promises.escalate(ctx, session, broken, policy)
        # judged from OPEN, nothing else changed: the summary takes them away, no recomputation
        await customer_facts.judge_promises(
            session, ids, {p.customer_id for p in due}, ctx.clock.today()
        )
    if escalated:
        ctx.after_commit.changed()
    return Evaluation(judged, escalated)


async def next_pass_in(ctx: AccountsContext, max_sleep_s: float) -> float:
    """Seconds until the earliest open deadline, at most `max_sleep_s`."""
    async with ctx.db.transaction() as session:
        due = await batch.next_due(session)
    if due is None:
        return max_sleep_s
    return min(max_sleep_s, max(0.0, (due - ctx.clock.now()).total_seconds()))
