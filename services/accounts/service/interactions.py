"""The interaction log (append-only) and its outcome codes, and the customer timeline."""

from __future__ import annotations

from common.actor import current_actor
from common.errors import AlreadyExists, InvalidArgument, NotFound, Violations
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page
from services.accounts.data import collections_reads as reads
from services.accounts.data import customer_facts, rows
from services.accounts.data import repository as repo
from services.accounts.data.collections_models import (
    InteractionInvoiceRow,
    InteractionRow,
    OutcomeCodeRow,
)
from services.accounts.domain.interactions import InteractionData, Requirement, check_requirement
from services.accounts.domain.promises import PromisePlan
from services.accounts.service import legal_scope
from services.accounts.service.collector_scope import check_may_work
from services.accounts.service.context import AccountsContext
from services.accounts.service.promises import take_plan


async def _active_code(session, code: str) -> OutcomeCodeRow:
    try:
        row = await repo.outcome_code(session, code)
    except NotFound:
        raise InvalidArgument.of(
            "interaction.outcome_code", f"{code} is not an outcome code"
        ) from None
    if not row.active:
        raise InvalidArgument.of("interaction.outcome_code", f"{code} is deactivated")
    return row


async def log_interaction(
    ctx: AccountsContext, data: InteractionData, plan: PromisePlan | None, request: RequestKey
):
    """(the interaction, the promises it took): all written in one transaction, or nothing."""
    actor = current_actor()

    async def create(session):
        customer = await repo.get_customer(session, data.customer_id)
        check_may_work(actor, await repo.assignment(session, customer.id))
        code = await _active_code(session, data.outcome_code)
        v = Violations()
        check_requirement(Requirement(code.requires), data, plan is not None, v)
        if data.contact_position is not None:
            v.require(
                data.contact_position < len(customer.contacts),
                "interaction.contact_index",
                "the customer has no contact at this position",
            )
        invoices = await repo.invoices_of(session, list(data.invoice_ids))
        for i, invoice_id in enumerate(data.invoice_ids):
            invoice = invoices.get(invoice_id)
            v.require(
                invoice is not None and invoice.customer_id == customer.id,
                f"interaction.invoices[{i}]",
                "is not an invoice of this customer",
            )
        v.raise_if_any()
        now = ctx.clock.now()
        interaction_id = new_id()
        row = InteractionRow(
            **rows.interaction(interaction_id, data, actor.subject, data.occurred_at or now, now),
            invoices=[
                InteractionInvoiceRow(**rows.interaction_invoice(interaction_id, i))
                for i in data.invoice_ids
            ],
        )
        session.add(row)
        await session.flush()  # the promises refer to it
        made = (
            await take_plan(ctx, session, customer, plan, actor.subject, interaction_id)
            if plan is not None
            else []
        )
        await customer_facts.refresh(session, [customer.id], ctx.clock.today())
        return interaction_id, (row, made)

    async def replay(session, interaction_id: str):
        return (
            await repo.interaction(session, interaction_id),
            await repo.promises_of_interaction(session, interaction_id),
        )

    logged = await run_once(ctx.db, ctx.idempotency, "LogInteraction", request, create, replay)
    ctx.after_commit.changed()
    return logged


async def list_outcome_codes(ctx: AccountsContext, show_inactive: bool):
    async with ctx.db.reading_connection() as conn:
        return await reads.outcome_codes(conn, show_inactive)


async def create_outcome_code(
    ctx: AccountsContext, code: str, display_name: str, requires: Requirement
) -> OutcomeCodeRow:
    async with ctx.db.transaction() as session:
        if await session.get(OutcomeCodeRow, code) is not None:
            raise AlreadyExists(f"outcome code {code} exists")
        row = OutcomeCodeRow(
            code=code,
            display_name=display_name or code,
            requires=requires.value,
            active=True,
            created_at=ctx.clock.now(),
        )
        session.add(row)
        return row


async def deactivate_outcome_code(ctx: AccountsContext, code: str) -> OutcomeCodeRow:
    async with ctx.db.transaction() as session:
        row = await repo.outcome_code(session, code)
        row.active = False
        return row


async def timeline(ctx: AccountsContext, customer_id: str, page: Page):
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await reads.timeline(conn, customer_id, page.offset, page.size)
