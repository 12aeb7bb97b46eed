"""The team lead told of broken promises: an escalation through the outbox (subject: the customer
account) for each promise judged BROKEN whose invoices reached the promise policy's level. One
code for every judgement that can break a promise: the evaluator's at the deadline
(promise_judging.py) and a reversal's re-judgement after it (reversals.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data import promise_batch as batch
from services.accounts.domain import promises as rules
from services.accounts.domain.promises import PromisePolicy
from services.accounts.outbound import escalations
from services.accounts.service.context import AccountsContext


class BrokenPromise(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...


async def escalate(
    ctx: AccountsContext,
    session: AsyncSession,
    broken: Sequence[BrokenPromise],
    policy: PromisePolicy,
) -> int:
    """In the judging unit of work (its judgements flushed first, so they count toward the
    levels): the escalations of `broken`, written to the outbox; returns how many."""
    if not broken:
        return 0
    await session.flush()
    invoices = await batch.invoices_of(session, [p.id for p in broken])
    levels = await batch.broken_levels(session, [i for p in broken for i in invoices[p.id]])
    flags = await batch.customer_flags(session, [p.customer_id for p in broken])
    outbox = []
    for p in broken:
        level = max((levels.get(i, 0) for i in invoices[p.id]), default=0)
        if rules.escalates([level], policy):
            customer = flags[p.customer_id]
            outbox.append(
                escalations.broken_promise_row(
                    ctx.outbox,
                    customer_id=p.customer_id,
                    promise_id=p.id,
                    amount_minor=p.amount_minor,
                    currency=p.currency,
                    level=level,
                    bankruptcy=customer.bankruptcy,
                    in_litigation=customer.in_litigation,
                )
            )
    await batch.write(session, [], [], outbox)
    return len(outbox)
