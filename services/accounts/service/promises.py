"""Promises to pay: taking them (alone or with an interaction), reading them, ending them early,
and keeping them at once when cash fully pays them before their deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from common.actor import current_actor
from common.errors import Violations
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page
from services.accounts.data import collections_reads as reads
from services.accounts.data import customer_facts, rows
from services.accounts.data import repository as repo
from services.accounts.data.collections_models import PromiseEventRow, PromiseInvoiceRow, PromiseRow
from services.accounts.data.models import CustomerRow
from services.accounts.domain import promises as rules
from services.accounts.domain.promises import PromisePlan, PromiseState
from services.accounts.service import legal_scope
from services.accounts.service.collector_scope import check_may_work
from services.accounts.service.context import AccountsContext


def _event(row: PromiseRow, state: str, amount_minor: int, actor: str, now: datetime):
    return PromiseEventRow(
        **rows.promise_event(row.id, row.customer_id, state, amount_minor, row.currency, actor, now)
    )


async def take_plan(
    ctx: AccountsContext,
    session: AsyncSession,
    customer: CustomerRow,
    plan: PromisePlan,
    taken_by: str,
    interaction_id: str | None,
) -> list[PromiseRow]:
    """The plan's promises, OPEN, added to the caller's unit of work (nothing when refused)."""
    v = Violations()
    rules.check_plan(plan, ctx.clock.today(), v, "promise_plan")
    invoices = await repo.invoices_of(session, list(plan.invoice_ids))
    collectible = 0
    for i, invoice_id in enumerate(plan.invoice_ids):
        invoice = invoices.get(invoice_id)
        where = f"promise_plan.promise.invoices[{i}]"
        if invoice is None or invoice.customer_id != customer.id:
            v.add(where, "is not an invoice of this customer")
        elif plan.instalments and invoice.currency != plan.currency:
            v.add(where, "is in another currency than the promise")
        else:
            collectible += invoice.open_minor - invoice.held_minor
    promised = sum(i.amount.minor for i in plan.instalments)
    v.require(
        promised <= collectible,
        "promise_plan.instalments",
        "the promise exceeds what is open and not disputed on its invoices",
    )
    v.raise_if_any()
    policy = await repo.promise_policy(session)
    calendar = rules.customer_calendar(customer.time_zone, customer.country_code, policy)
    plan_id, now = new_id(), ctx.clock.now()
    made = []
    for number, item in enumerate(plan.instalments, start=1):
        deadline = rules.deadline(item.promised_date, calendar, policy.tolerance_days)
        row = PromiseRow(
            **rows.promise(
                customer.id, plan, plan_id, number, deadline, taken_by, interaction_id, now
            )
        )
        row.invoices = [
            PromiseInvoiceRow(**rows.promise_invoice(row.id, i)) for i in plan.invoice_ids
        ]
        session.add(row)
        made.append(row)
    await session.flush()  # the events refer to the promises (no ORM relationship orders them)
    for row in made:
        session.add(_event(row, PromiseState.OPEN.value, row.amount_minor, taken_by, now))
    return made


async def create_promise(
    ctx: AccountsContext, customer_id: str, plan: PromisePlan, request: RequestKey
) -> list[PromiseRow]:
    actor = current_actor()

    async def create(session):
        customer = await repo.get_customer(session, customer_id)
        check_may_work(actor, await repo.assignment(session, customer_id))
        made = await take_plan(ctx, session, customer, plan, actor.subject, None)
        await customer_facts.refresh(session, [customer.id], ctx.clock.today())
        return made[0].plan_id, made

    async def replay(session, plan_id: str):
        return await repo.promises_of_plan(session, plan_id)

    made = await run_once(ctx.db, ctx.idempotency, "CreatePromise", request, create, replay)
    ctx.after_commit.changed()
    return made


async def get_promise(ctx: AccountsContext, promise_id: str) -> reads.PromiseRead:
    async with ctx.db.reading_connection() as conn:
        read = await reads.promise(conn, promise_id)
        await legal_scope.check_visible(conn, read.row.customer_id, "promise", promise_id)
        return read


async def list_promises(
    ctx: AccountsContext, customer_id: str, state: str | None, page: Page
) -> list[reads.PromiseRead]:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await reads.promises(conn, customer_id, state, page.offset, page.size)


async def end_promise(
    ctx: AccountsContext, promise_id: str, etag: str, target: PromiseState
) -> PromiseRow:
    """Withdraw (the customer takes it back) or cancel (recorded in error) an OPEN promise."""
    actor = current_actor()
    async with ctx.db.transaction() as session:
        row = await repo.get_promise(session, promise_id, for_update=True)
        check_etag(etag, row.id, row.version, required=True)
        check_may_work(actor, await repo.assignment(session, row.customer_id))
        row.state = rules.end_open(PromiseState(row.state), target).value
        row.version += 1
        now = ctx.clock.now()
        session.add(_event(row, row.state, row.amount_minor, actor.subject, now))
        await customer_facts.refresh(session, [row.customer_id], ctx.clock.today())
        return row


@dataclass(frozen=True)
class PromiseRecordView:
    counts: dict[str, int]
    kept_rate_percent: Decimal | None
    invoice_levels: list[tuple[str, int]]


async def promise_record(ctx: AccountsContext, customer_id: str) -> PromiseRecordView:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        standing = await reads.promise_standing(conn, customer_id)
    judged = sum(standing.counts.get(s.value, 0) for s in rules.JUDGED)
    rate = rules.kept_rate_percent(standing.counts.get(PromiseState.KEPT.value, 0), judged)
    return PromiseRecordView(standing.counts, rate, standing.invoice_levels)


async def keep_paid_promises(
    session: AsyncSession, invoice_ids: list[str], now: datetime
) -> list[PromiseRow]:
    """In the allocating unit of work: the open promises on these invoices that cash now pays in
    full become KEPT at once (their deadline need not pass)."""
    kept = []
    await session.flush()  # the allocations just posted count (the unit of work does not autoflush)
    for promise in await repo.open_promises_covering(session, invoice_ids):
        covered = [link.invoice_id for link in promise.invoices]
        total = await repo.paid_on(session, covered, promise.created_at, promise.deadline_at)
        paid = rules.paid_toward(total, await repo.earlier_instalments(session, promise))
        if rules.kept_early(promise.amount_minor, paid):
            promise.state = PromiseState.KEPT.value
            promise.paid_minor = paid
            promise.judged_at = now
            promise.version += 1
            session.add(_event(promise, promise.state, paid, "rule:promise-paid", now))
            kept.append(promise)
    return kept
