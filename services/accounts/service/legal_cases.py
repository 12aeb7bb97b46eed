"""Legal's side of an account: the hand-over when a customer is flagged (bankruptcy, litigation),
Legal's answers, the cases it sees, and every later posting on the account reported to it."""

from __future__ import annotations

from common.actor import current_actor
from common.errors import FailedPrecondition, NotFound
from common.etag import check_etag
from common.listing import Page
from services.accounts.data import dunning_batch, dunning_rows, legal_batch
from services.accounts.data import legal_reads as reads
from services.accounts.data.dunning_models import LegalCaseRow, LegalEventRow, LegalSnapshotLineRow
from services.accounts.data.legal_reads import LegalCaseRead
from services.accounts.data.models import CustomerRow, OutboxEventRow
from services.accounts.data.repository import get_customer
from services.accounts.domain import legal
from services.accounts.domain.dunning import CustomerFlags
from services.accounts.domain.legal import LegalState
from services.accounts.outbound.dunning_escalations import legal_posting_row
from services.accounts.service import legal_scope
from services.accounts.service.context import AccountsContext
from services.accounts.service.dunning_run import positions
from services.accounts.service.legal_handover import hand_over
from services.accounts.service.promised import promised_on


async def check_block_may_lift(session, customer_id: str) -> None:
    """An active legal case keeps the customer's dunning block until Legal closes it."""
    if await dunning_batch.with_active_legal_case(session, [customer_id]):
        raise FailedPrecondition(
            "the account is with Legal: its case lifts the block when closed",
            reason="LEGAL_CASE_ACTIVE",
        )


async def hand_over_if_flagged(ctx: AccountsContext, session, customer: CustomerRow) -> None:
    """In UpdateCustomer's unit of work: a customer now bankrupt or in litigation, without an
    active case, goes to Legal (case, snapshot, dunning block, escalation) in that transaction."""
    active = await dunning_batch.with_active_legal_case(session, [customer.id])
    reason = legal.trigger(
        CustomerFlags(customer.bankruptcy, customer.in_litigation),
        legal_level_reached=False,
        has_active_case=bool(active),
    )
    if reason is None:
        return
    invoices = await dunning_batch.open_invoices(session, [customer.id], None)
    promised = await promised_on(session, [customer.id])
    owed = {currency: ps for (_, currency), ps in positions(invoices, promised).items()}
    handed = hand_over(
        ctx.outbox,
        customer_id=customer.id,
        customer_name=customer.display_name,
        reason=reason,
        positions=owed,
        as_of=ctx.clock.today(),
        now=ctx.clock.now(),
        by=current_actor().subject,
    )
    session.add(
        LegalCaseRow(
            **handed.case,
            snapshot=[LegalSnapshotLineRow(**line) for line in handed.snapshot],
            events=[LegalEventRow(**handed.event)],
        )
    )
    session.add(OutboxEventRow(**handed.escalation))
    customer.dunning_block = True
    ctx.after_commit.changed()


async def get_case(ctx: AccountsContext, case_id: str) -> LegalCaseRead:
    async with ctx.db.reading_connection() as conn:
        read = await reads.case(conn, case_id)
        await legal_scope.check_visible(conn, read.case.customer_id, "legal case", case_id)
        return read


async def list_cases(
    ctx: AccountsContext, customer_id: str | None, page: Page
) -> list[LegalCaseRead]:
    async with ctx.db.reading_connection() as conn:
        return await reads.cases(
            conn, customer_id, page.offset, page.size, legal_scope.legal_only()
        )


async def record_answer(
    ctx: AccountsContext, case_id: str, etag: str, answer: LegalState, note: str
) -> LegalCaseRead:
    """Legal's answer moves the case; a CLOSED case lifts the customer's dunning block."""
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        row = await session.get(LegalCaseRow, case_id, with_for_update=True)
        if row is None:
            raise NotFound(
                f"legal case {case_id} does not exist", metadata={"resource": "legal case"}
            )
        check_etag(etag, row.id, row.version, required=True)
        case = _domain(row)
        after = legal.answer(case, answer, at=now, by=current_actor().subject, note=note)
        row.state = after.state.value
        row.version += 1
        row.updated_at = now
        row.events.append(
            LegalEventRow(**dunning_rows.legal_event(row.id, row.customer_id, after.history[-1]))
        )
        if not after.active:
            customer = await get_customer(session, row.customer_id, for_update=True)
            customer.dunning_block = False
    # read back unscoped: closing the case takes the account away from Legal, not the answer
    async with ctx.db.reading_connection() as conn:
        return await reads.case(conn, case_id)


async def report_postings(ctx: AccountsContext, batch: int = 200) -> int:
    """One pass of the Legal notifier: the unreported postings, each an event to Legal."""
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        found = await legal_batch.unreported(session, batch)
        events, outbox = [], []
        for p in found:
            note = f"{p.source_kind} {p.amount_minor} {p.currency} on {p.invoice_number}"
            events.append(
                dunning_rows.legal_posting(p.case_id, p.customer_id, p.allocation_id, note, now)
            )
            outbox.append(
                legal_posting_row(
                    ctx.outbox,
                    customer_id=p.customer_id,
                    customer_name=p.customer_name,
                    allocation_id=p.allocation_id,
                    kind=p.source_kind,
                    amount_minor=p.amount_minor,
                    currency=p.currency,
                )
            )
        await legal_batch.record(session, events, outbox)
    if found:
        ctx.after_commit.changed()
    return len(found)


def _domain(row: LegalCaseRow) -> legal.LegalCase:
    """The case's state and history (what an answer is checked against; the snapshot stays)."""
    return legal.LegalCase(
        case_id=row.id,
        customer_id=row.customer_id,
        trigger=legal.LegalTrigger(row.trigger),
        snapshots=(),
        state=LegalState(row.state),
        history=tuple(
            legal.LegalEvent(LegalState(e.kind), e.occurred_at, e.actor, e.note)
            for e in row.events
            if e.allocation_id is None
        ),
    )
