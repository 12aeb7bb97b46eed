"""Use cases on customers and their bill-to accounts."""

from __future__ import annotations

from common.actor import current_actor
from common.errors import AlreadyExists, InvalidArgument, PermissionDenied
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page, Term
from services.accounts.data import billing_reads, customer_facts, reads, rows
from services.accounts.data import repository as repo
from services.accounts.data.billing_reads import BillingAccountRecord
from services.accounts.data.models import BillingAccountRow, ContactRow, CustomerRow
from services.accounts.domain.records import CUSTOMER_FIELDS, CustomerData
from services.accounts.service import legal_cases, legal_scope
from services.accounts.service.collector_scope import TEAM_LEAD
from services.accounts.service.context import AccountsContext
from services.accounts.service.promised import promised_on


def _apply(row: CustomerRow, data: CustomerData, fields: tuple[str, ...]) -> None:
    values = rows.customer_values(data)
    for name in fields:
        if name == "contacts":
            row.contacts = [
                ContactRow(**rows.contact(row.id, i, c)) for i, c in enumerate(data.contacts)
            ]
        elif name == "credit_limit":
            row.credit_limit_minor = values["credit_limit_minor"]
            row.credit_limit_currency = values["credit_limit_currency"]
        else:
            setattr(row, name, values[name])


async def _refuse_taken_ref(session, external_ref: str | None, own_id: str | None = None) -> None:
    if external_ref:
        other = await repo.customer_by_ref(session, external_ref)
        if other is not None and other.id != own_id:
            raise AlreadyExists(
                f"a customer with external_ref {external_ref!r} exists",
                metadata={"customer": f"customers/{other.id}"},
            )


def _check_may_block(fields: tuple[str, ...]) -> None:
    """Only a team lead sets or lifts a customer's dunning block."""
    if "dunning_block" in fields and not current_actor().has_role(TEAM_LEAD):
        raise PermissionDenied("only a team lead sets or lifts a dunning block")


async def create_customer(
    ctx: AccountsContext, data: CustomerData, request: RequestKey
) -> CustomerRow:
    _check_may_block(("dunning_block",) if data.dunning_block else ())

    async def create(session):
        await _refuse_taken_ref(session, data.external_ref)
        now = ctx.clock.now()
        customer_id = new_id()
        row = CustomerRow(
            **rows.customer(customer_id, data, now),
            contacts=[
                ContactRow(**rows.contact(customer_id, i, c)) for i, c in enumerate(data.contacts)
            ],
        )
        session.add(row)
        await customer_facts.refresh(session, [customer_id], ctx.clock.today())
        return row.id, row

    return await run_once(
        ctx.db, ctx.idempotency, "CreateCustomer", request, create, repo.get_customer
    )


async def get_customer(ctx: AccountsContext, customer_id: str) -> reads.CustomerRead:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await reads.customer(conn, customer_id)


async def list_customers(
    ctx: AccountsContext, terms: list[Term], order, page: Page
) -> list[reads.CustomerRead]:
    async with ctx.db.reading_connection() as conn:
        return await reads.customers(conn, terms, order, page, legal_scope.legal_only())


async def update_customer(
    ctx: AccountsContext, customer_id: str, etag: str, data: CustomerData, fields: tuple[str, ...]
) -> CustomerRow:
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise InvalidArgument.of("update_mask", f"cannot update {sorted(unknown)}")
    _check_may_block(fields)
    async with ctx.db.transaction() as session:
        row = await repo.get_customer(session, customer_id, for_update=True)
        check_etag(etag, row.id, row.version)
        if "dunning_block" in fields and not data.dunning_block:
            await legal_cases.check_block_may_lift(session, row.id)
        if "external_ref" in fields:
            await _refuse_taken_ref(session, data.external_ref, row.id)
        _apply(row, data, fields)
        await legal_cases.hand_over_if_flagged(ctx, session, row)
        row.version += 1
        row.updated_at = ctx.clock.now()
        # its currency decides which invoices its figures count
        await customer_facts.refresh(session, [row.id], ctx.clock.today())
        return row


async def create_billing_account(
    ctx: AccountsContext,
    customer_id: str,
    number: str,
    display_name: str,
    currency: str,
    request: RequestKey,
) -> BillingAccountRow:
    async def create(session):
        await repo.get_customer(session, customer_id)
        if await repo.billing_account_by_number(session, customer_id, number):
            raise AlreadyExists(f"billing account {number!r} exists for this customer")
        row = BillingAccountRow(
            **rows.billing_account(customer_id, number, display_name, currency, ctx.clock.now())
        )
        session.add(row)
        return row.id, row

    return await run_once(
        ctx.db, ctx.idempotency, "CreateBillingAccount", request, create, repo.billing_account
    )


async def list_billing_accounts(
    ctx: AccountsContext, customer_id: str, page: Page
) -> list[BillingAccountRecord]:
    async with ctx.db.reading_connection() as conn:
        await legal_scope.check_visible(conn, customer_id)
        return await billing_reads.billing_accounts(conn, customer_id, page)


async def customer_balance(ctx: AccountsContext, customer_id: str) -> dict[str, dict[str, int]]:
    """Per currency: open, held, overdue, cash, credits and what open promises take out
    (`promised`, placed by domain/collectible.py exactly as on the invoices)."""
    async with ctx.db.reading_connection() as conn:  # a balance, not a reconciliation
        await legal_scope.check_visible(conn, customer_id)
        totals = await repo.customer_balances(conn, customer_id, ctx.clock.today())
        placed = (await promised_on(conn, [customer_id])).by_customer()
    for currency, slot in totals.items():
        slot["promised"] = placed.get((customer_id, currency), 0)
    return totals
