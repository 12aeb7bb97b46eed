"""Write-off requests with four eyes: one use case per step, each one ORM unit of work on the
request (row-locked), the domain (domain/writeoff.py) deciding. Posting and reversal lock the
invoices and write their keyed ledger entries in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from common.actor import current_actor
from common.errors import InvalidArgument
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page
from services.accounts.data import customer_facts
from services.accounts.data import writeoff_reads as reads
from services.accounts.data import writeoff_repository as repo
from services.accounts.data.dunning_models import WriteOffRow
from services.accounts.data.repository import get_customer
from services.accounts.data.writeoff_reads import WriteOffRead
from services.accounts.domain import writeoff
from services.accounts.domain.writeoff import Approver, WriteOff, WriteOffLine
from services.accounts.service.context import AccountsContext

LEDGER_CHANGED = "ledger"  # AfterCommit: postings change balances (the Legal notifier listens)


async def create(
    ctx: AccountsContext,
    *,
    customer_id: str,
    currency: str,
    lines: Sequence[WriteOffLine],
    reason_code: str,
    evidence: Sequence[str],
    request: RequestKey,
) -> WriteOffRow:
    requester = current_actor().subject

    async def make(session):
        await get_customer(session, customer_id)
        if not await repo.reason_is_active(session, reason_code):
            raise InvalidArgument.of("write_off.reason_code", "not an active write-off reason")
        found = await repo.invoices(
            session, customer_id, currency, [line.invoice_id for line in lines]
        )
        drafted = writeoff.draft(
            write_off_id=new_id(),
            customer_id=customer_id,
            currency=currency,
            lines=lines,
            balances=repo.balances(found),
            reason_code=reason_code,
            evidence=evidence,
            requester=requester,
        )
        row = repo.add(session, drafted, ctx.clock.now())
        await session.flush()
        return row.id, row

    return await run_once(ctx.db, ctx.idempotency, "CreateWriteOff", request, make, repo.get)


async def _step(ctx: AccountsContext, write_off_id: str, etag: str, decide) -> WriteOffRow:
    """Loads the request locked, checks its etag, saves what `decide(session, request)` returns."""
    async with ctx.db.transaction() as session:
        row = await repo.get(session, write_off_id, for_update=True)
        check_etag(etag, row.id, row.version, required=True)
        after: WriteOff = await decide(session, repo.to_domain(row))
        repo.save(row, after, ctx.clock.now())
        await session.flush()
        return row


async def submit(ctx: AccountsContext, write_off_id: str, etag: str) -> WriteOffRow:
    async def decide(session, request):
        return writeoff.submit(request, await repo.policy(session))

    return await _step(ctx, write_off_id, etag, decide)


async def approve(ctx: AccountsContext, write_off_id: str, etag: str) -> WriteOffRow:
    actor = current_actor()
    approver = Approver(actor.subject, frozenset(actor.roles))

    async def decide(session, request):
        return writeoff.approve(request, approver, await repo.policy(session), ctx.clock.now())

    return await _step(ctx, write_off_id, etag, decide)


async def reject(ctx: AccountsContext, write_off_id: str, etag: str, note: str) -> WriteOffRow:
    async def decide(session, request):
        return writeoff.reject(request, current_actor().subject, note)

    return await _step(ctx, write_off_id, etag, decide)


async def cancel(ctx: AccountsContext, write_off_id: str, etag: str, note: str) -> WriteOffRow:
    async def decide(session, request):
        return writeoff.cancel(request, current_actor().subject, note)

    return await _step(ctx, write_off_id, etag, decide)


async def post(ctx: AccountsContext, write_off_id: str, etag: str) -> WriteOffRow:
    """The entries leave the invoices' open amounts (aging, to collect) in this transaction."""

    async def decide(session, request):
        found = await _locked_invoices(session, request)
        posted, entries = writeoff.post(request, repo.balances(found), ctx.clock.now())
        await _post_entries(ctx, session, request, found, entries)
        return posted

    row = await _step(ctx, write_off_id, etag, decide)
    ctx.after_commit.changed(LEDGER_CHANGED)
    return row


async def reverse(ctx: AccountsContext, write_off_id: str, etag: str, note: str) -> WriteOffRow:
    async def decide(session, request):
        found = await _locked_invoices(session, request)
        reversed_, entries = writeoff.reverse(request, current_actor().subject, ctx.clock.now())
        await _post_entries(ctx, session, request, found, entries)
        return replace(reversed_, decision_note=note) if note else reversed_

    row = await _step(ctx, write_off_id, etag, decide)
    ctx.after_commit.changed(LEDGER_CHANGED)
    return row


async def _post_entries(ctx: AccountsContext, session, request: WriteOff, found, entries) -> None:
    """The entries on the invoices, and the customer's worklist facts after them."""
    await repo.post_entries(session, found, entries, ctx.clock.today(), ctx.clock.now())
    await customer_facts.refresh(session, [request.customer_id], ctx.clock.today())


async def _locked_invoices(session, request: WriteOff):
    ids = [line.invoice_id for line in request.lines]
    return await repo.invoices(session, request.customer_id, request.currency, ids, for_update=True)


async def get(ctx: AccountsContext, write_off_id: str) -> WriteOffRead:
    async with ctx.db.reading_connection() as conn:
        return await reads.write_off(conn, write_off_id)


async def report(ctx: AccountsContext, customer_id: str | None, page: Page) -> list[WriteOffRead]:
    async with ctx.db.reading_connection() as conn:
        return await reads.report(conn, customer_id, page.offset, page.size)


async def reasons(ctx: AccountsContext) -> list[tuple[str, str]]:
    async with ctx.db.reading_connection() as conn:
        return await reads.reasons(conn)
