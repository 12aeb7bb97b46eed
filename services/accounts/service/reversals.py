"""ReverseAllocation: take back what a payment or credit note applied to an invoice (a returned
payment, an allocation in error). Each standing allocation gets one reversing posting (kind
REVERSAL, its source the allocation, keyed `reversal:<allocation id>` so it is posted once); the
amount goes back on the invoice and on the source; the judged promises on the invoice that no
longer hold are re-opened (before their deadline) or judged anew (after it), a promise judged
BROKEN so escalating to the team lead as the evaluator's judgement does (broken_promises.py)."""

from __future__ import annotations

from dataclasses import dataclass

from common.actor import current_actor
from common.errors import FailedPrecondition
from common.idempotency import RequestKey, run_once
from services.accounts.data import customer_facts, rows
from services.accounts.data import repository as repo
from services.accounts.data.collections_models import PromiseEventRow
from services.accounts.data.models import AllocationRow, CreditNoteRow, InvoiceRow, PaymentRow
from services.accounts.domain import promises as rules
from services.accounts.domain.promises import PromiseState
from services.accounts.domain.records import SourceKind
from services.accounts.service import broken_promises
from services.accounts.service.context import AccountsContext


@dataclass(frozen=True)
class Reversal:
    invoice: InvoiceRow
    source: PaymentRow | CreditNoteRow
    reversed_minor: int


async def _source(session, kind: SourceKind, source_id: str) -> PaymentRow | CreditNoteRow:
    if kind is SourceKind.PAYMENT:
        return await repo.get_payment(session, source_id, for_update=True)
    return await repo.get_credit_note(session, source_id, for_update=True)


async def _rejudge(ctx: AccountsContext, session, invoice_id: str, actor: str) -> None:
    """The invoice's judged promises, against what still counts as paid toward them; those now
    BROKEN escalate as at their first judgement."""
    await session.flush()  # the reversing postings count
    policy, now = await repo.promise_policy(session), ctx.clock.now()
    broken = []
    for promise in await repo.judged_promises_covering(session, invoice_id):
        covered = [link.invoice_id for link in promise.invoices]
        total = await repo.paid_on(session, covered, promise.created_at, promise.deadline_at)
        paid = rules.paid_toward(total, await repo.earlier_instalments(session, promise))
        state = PromiseState(promise.state)
        after = rules.after_reversal(
            state, promise.amount_minor, paid, promise.deadline_at, now, policy
        )
        if after is state:
            continue
        promise.state = after.value
        promise.paid_minor = paid
        promise.judged_at = None if after is PromiseState.OPEN else now
        promise.version += 1
        event = rows.promise_event(
            promise.id, promise.customer_id, after.value, paid, promise.currency, actor, now
        )
        session.add(PromiseEventRow(**event))
        if after is PromiseState.BROKEN:
            broken.append(promise)
    await broken_promises.escalate(ctx, session, broken, policy)


async def reverse_allocation(
    ctx: AccountsContext,
    kind: SourceKind,
    source_id: str,
    invoice_id: str,
    reason_code: str,
    request: RequestKey,
) -> Reversal:
    actor = current_actor()

    async def create(session):
        source = await _source(session, kind, source_id)
        invoice = await repo.get_invoice(session, invoice_id, for_update=True)
        standing = await repo.standing_allocations(session, invoice.id, kind, source.id)
        if not standing:
            raise FailedPrecondition(
                f"nothing of this source is applied to invoice {invoice.external_number}",
                reason="NOTHING_TO_REVERSE",
            )
        now, today = ctx.clock.now(), ctx.clock.today()
        for allocation in standing:
            row = rows.allocation(
                invoice.id,
                SourceKind.REVERSAL,
                allocation.id,
                -allocation.amount_minor,
                today,
                now,
                reason_code,
                entry_key=f"reversal:{allocation.id}",
            )
            session.add(AllocationRow(**row))
        total = sum(a.amount_minor for a in standing)
        invoice.open_minor += total
        invoice.closed_date = None
        source.unallocated_minor += total
        await _rejudge(ctx, session, invoice.id, actor.subject)
        await customer_facts.refresh(session, [invoice.customer_id], today)
        return invoice.id, Reversal(invoice, source, total)

    async def replay(session, _invoice_id: str):
        source = await _source(session, kind, source_id)
        invoice = await repo.get_invoice(session, invoice_id)
        taken_back = await repo.reversed_amount(session, invoice.id, kind, source.id)
        return Reversal(invoice, source, taken_back)

    done = await run_once(ctx.db, ctx.idempotency, "ReverseAllocation", request, create, replay)
    ctx.after_commit.changed()  # a promise open again: the evaluator's next deadline may move
    return done
