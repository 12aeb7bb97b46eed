"""Opening a case: validated against accounts, holds placed through the outbox, clocks started,
all in one transaction. Idempotent by request id.

The request id is looked up once, before accounts is asked (a retry is answered from the case the
key names). The transaction is the key's INSERT, the per-invoice lock, what is already disputed,
then one INSERT per table (case, items, note, clocks, milestones, history) and the hold event:
reason codes, SLA policies and calendars come from the process's reference data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from common import tracing
from common.actor import current_actor
from common.errors import AlreadyExists, InvalidArgument
from common.idempotency import RequestKey, mark_replayed
from common.ids import new_id
from services.disputes.data import repository as repo
from services.disputes.data.models import OutboxEventRow
from services.disputes.data.rows import case_row, history_row, insert_new, note_row
from services.disputes.domain.intake import ItemRequest, plan_items
from services.disputes.domain.policies import PRIORITY_RANK, Priority
from services.disputes.domain.status import Status
from services.disputes.outbound import events
from services.disputes.service import reference
from services.disputes.service.clocks import ClockDesk
from services.disputes.service.context import DisputesContext
from services.disputes.service.views import DisputeView, view_of

SCOPE = "CreateDispute"


@dataclass(frozen=True)
class NewDispute:
    customer_id: str
    title: str
    reason_code: str
    priority: Priority
    items: tuple[ItemRequest, ...]
    external_ref: str = ""
    assignee: str = ""
    coordinator: str = ""
    first_note: str = ""


async def _check_reason(ctx: DisputesContext, conn, data: NewDispute) -> None:
    reason = await reference.reason(ctx, conn, data.reason_code)
    if reason is None or not reason.active:
        state = "is not a reason code" if reason is None else "is deactivated"
        raise InvalidArgument.of("dispute.reason_code", f"{data.reason_code!r} {state}")
    if reason.requires_note and not data.first_note:
        raise InvalidArgument.of("dispute.first_note", f"is required for reason {reason.code}")


async def _replay(ctx: DisputesContext, session, dispute_id: str) -> DisputeView:
    tracing.about(case_id=dispute_id)
    case = await repo.get_dispute(session, dispute_id)
    return await view_of(session, ctx.calendars, case, ctx.clock.now())


async def create_dispute(
    ctx: DisputesContext, data: NewDispute, request: RequestKey
) -> DisputeView:
    for attempt in range(2):
        try:
            return await _create_once(ctx, data, request)
        except AlreadyExists:
            # A concurrent twin recorded this request id first (its INSERT waited for ours): the
            # second attempt finds its key row and answers with its case.
            if attempt or not request.present:
                raise
    raise AssertionError("unreachable")


async def _create_once(ctx: DisputesContext, data: NewDispute, request: RequestKey) -> DisputeView:
    # The request id is looked up once, here, before anything else: a retry is answered from the
    # key's row (one statement, no transaction) without asking accounts; the reason is checked
    # against the process's reference data.
    async with ctx.db.reading_connection() as conn:
        earlier = await ctx.idempotency.find(conn, SCOPE, request) if request.present else None
        if earlier is None:
            await _check_reason(ctx, conn, data)
    if earlier is not None:
        mark_replayed()
        async with ctx.db.transaction() as session:
            return await _replay(ctx, session, earlier.resource_id)
    # Not inside the transaction: a database transaction never waits on another service.
    customer, *invoices = await asyncio.gather(
        ctx.accounts.customer(data.customer_id),
        *(
            ctx.accounts.invoice(item.invoice_id, f"dispute.items[{n}].invoice")
            for n, item in enumerate(data.items)
        ),
    )
    facts = {inv.invoice_id: inv for inv in invoices}
    actor = current_actor().subject
    origin = tracing.current_traceparent()  # the case's origin trace: breach spans link to it
    case_id = new_id()  # chosen first: the idempotency key is stored complete in one INSERT

    async def create(session):
        invoice_ids = [i.invoice_id for i in data.items]
        await repo.lock_invoices(session, invoice_ids)
        mine = await repo.disputed_here(session, invoice_ids)
        currency, planned = plan_items(data.customer_id, data.items, facts, mine)
        now = ctx.clock.now()
        status = Status.OPEN if data.assignee else Status.NEW
        tracing.about(case_id=case_id)
        case = _case_row(case_id, data, customer, currency, planned, status, origin, now)
        if data.first_note:
            case.notes.append(note_row(case_id, data.first_note, actor, now))
        rows = [case, *case.items, *case.notes]
        rows.append(
            history_row(
                case,
                "CREATED",
                actor,
                now,
                to_status=status.value,
                comment=data.first_note,
                details={
                    "reason": data.reason_code,
                    "priority": data.priority.value,
                    "assignee": data.assignee,
                    "currency": currency,
                    "invoices": ",".join(p.invoice_number for p in planned),
                },
            )
        )
        policies = await reference.active_policies(ctx, session)
        desk = ClockDesk(ctx, session, case, now, actor, new_rows=rows)
        for kind in ("ACKNOWLEDGE", "RESOLVE"):
            await desk.start(kind, policies)
        holds = [events.hold_row(ctx.outbox, case, p.invoice_id, p.amount_minor) for p in planned]
        # the case with its due time and SLA state as its clocks started, and its hold events
        await insert_new(session, rows, {OutboxEventRow.__table__: holds})
        return await view_of(session, ctx.calendars, case, now)

    async with ctx.db.transaction() as session:
        if request.present:
            # First in the transaction: a twin in flight waits here on the key's primary key,
            # then fails (AlreadyExists) instead of planning against this case's holds.
            await ctx.idempotency.record_many(session, SCOPE, [(request, case_id)])
        view = await create(session)
    ctx.changed()
    return view


def _case_row(case_id, data: NewDispute, customer, currency, planned, status, origin, now):
    """The new case as the ORM object it is everywhere else (never added to the session:
    `insert_new` writes it)."""
    return case_row(
        case_id,
        customer_id=data.customer_id,
        title=data.title,
        reason_code=data.reason_code,
        priority=data.priority.value,
        priority_rank=PRIORITY_RANK[data.priority],
        status=status.value,
        assignee=data.assignee,
        coordinator=data.coordinator,
        external_ref=data.external_ref,
        currency=currency,
        risk_class=customer.risk_class,
        bankruptcy=customer.bankruptcy,
        in_litigation=customer.in_litigation,
        origin_traceparent=origin,
        items=planned,
        now=now,
    )
