"""Queries of the accounts service. Rows in, rows out; a missing row is NotFound here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from common.errors import NotFound
from services.accounts.data.collections_models import (
    AssignmentRow,
    InteractionRow,
    OutcomeCodeRow,
    PromiseInvoiceRow,
    PromisePolicyRow,
    PromiseRow,
    WorklistStrategyRow,
)
from services.accounts.data.models import (
    AllocationRow,
    BillingAccountRow,
    CreditNoteRow,
    CustomerRow,
    InvoiceRow,
    PaymentRow,
)
from services.accounts.data.promise_payments import PAID_LINES
from services.accounts.domain.promises import JUDGED, PromisePolicy, PromiseState
from services.accounts.domain.records import SourceKind


def missing(label: str, row_id: str) -> NotFound:
    return NotFound(f"{label} {row_id} does not exist", metadata={"resource": label})


async def _get(session: AsyncSession, model, row_id: str, label: str, for_update: bool):
    stmt = select(model).where(model.id == row_id)
    if for_update:
        stmt = stmt.with_for_update(of=model)  # lock the row itself, not joined children
    # unique(): rows with joined collections (a customer's contacts) come once per child
    row = (await session.execute(stmt)).unique().scalar_one_or_none()
    if row is None:
        raise missing(label, row_id)
    return row


async def get_customer(
    session: AsyncSession, customer_id: str, for_update: bool = False
) -> CustomerRow:
    return await _get(session, CustomerRow, customer_id, "customer", for_update)


async def get_invoice(
    session: AsyncSession, invoice_id: str, for_update: bool = False
) -> InvoiceRow:
    return await _get(session, InvoiceRow, invoice_id, "invoice", for_update)


async def get_payment(
    session: AsyncSession, payment_id: str, for_update: bool = False
) -> PaymentRow:
    return await _get(session, PaymentRow, payment_id, "payment", for_update)


async def get_credit_note(
    session: AsyncSession, note_id: str, for_update: bool = False
) -> CreditNoteRow:
    return await _get(session, CreditNoteRow, note_id, "credit note", for_update)


async def customer_by_ref(session: AsyncSession, external_ref: str) -> CustomerRow | None:
    stmt = select(CustomerRow).where(CustomerRow.external_ref == external_ref)
    return (await session.execute(stmt)).unique().scalar_one_or_none()


async def invoice_by_number(session: AsyncSession, external_number: str) -> InvoiceRow | None:
    return await session.scalar(
        select(InvoiceRow).where(InvoiceRow.external_number == external_number)
    )


async def billing_account(session: AsyncSession, account_id: str) -> BillingAccountRow | None:
    return await session.get(BillingAccountRow, account_id)


async def billing_account_by_number(
    session: AsyncSession, customer_id: str, number: str
) -> str | None:
    """The id of the customer's billing account with this number, if there is one."""
    return await session.scalar(
        select(BillingAccountRow.id).where(
            BillingAccountRow.customer_id == customer_id, BillingAccountRow.number == number
        )
    )


# The balance statements, built once (bound values: the customer and today).
_invoices = InvoiceRow.__table__
_CUSTOMER_EXISTS = select(CustomerRow.__table__.c.id).where(
    CustomerRow.__table__.c.id == bindparam("customer")
)
_OPEN_BY_CURRENCY = (
    select(
        _invoices.c.currency,
        func.sum(_invoices.c.open_minor),
        func.sum(_invoices.c.held_minor),
        func.sum(
            case((_invoices.c.due_date < bindparam("today"), _invoices.c.open_minor), else_=0)
        ),
    )
    .where(_invoices.c.customer_id == bindparam("customer"), _invoices.c.open_minor > 0)
    .group_by(_invoices.c.currency)
)
_UNALLOCATED_BY_CURRENCY = {
    key: select(table.c.currency, func.sum(table.c.unallocated_minor))
    .where(table.c.customer_id == bindparam("customer"), table.c.unallocated_minor > 0)
    .group_by(table.c.currency)
    for key, table in (("cash", PaymentRow.__table__), ("credits", CreditNoteRow.__table__))
}


async def customer_balances(conn, customer_id: str, today: date) -> dict[str, dict[str, int]]:
    """Per currency: open, held, overdue receivables, unallocated cash and open credits."""
    if (await conn.execute(_CUSTOMER_EXISTS, {"customer": customer_id})).first() is None:
        raise missing("customer", customer_id)
    totals: dict[str, dict[str, int]] = {}

    def slot(currency: str) -> dict[str, int]:
        return totals.setdefault(
            currency, dict.fromkeys(("open", "held", "overdue", "cash", "credits"), 0)
        )

    invoices = await conn.execute(_OPEN_BY_CURRENCY, {"customer": customer_id, "today": today})
    for currency, open_, held, overdue in invoices:
        slot(currency).update(open=int(open_), held=int(held), overdue=int(overdue))
    for key, stmt in _UNALLOCATED_BY_CURRENCY.items():
        for currency, amount in await conn.execute(stmt, {"customer": customer_id}):
            slot(currency)[key] = int(amount)
    return totals


# --- the collector's day -------------------------------------------------------------------------
async def outcome_code(session: AsyncSession, code: str) -> OutcomeCodeRow:
    return await _get_by(session, OutcomeCodeRow, OutcomeCodeRow.code, code, "outcome code")


async def _get_by(session: AsyncSession, model, key, value, label: str, for_update: bool = False):
    stmt = select(model).where(key == value)
    if for_update:
        stmt = stmt.with_for_update(of=model)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise missing(label, str(value))
    return row


_POLICY = select(PromisePolicyRow.__table__).where(PromisePolicyRow.__table__.c.id == "default")


async def promise_policy(unit) -> PromisePolicy:
    """The promise policy (the migration seeds it), from a session or a connection."""
    row = (await unit.execute(_POLICY)).one()
    return PromisePolicy(
        tolerance_days=row.tolerance_days,
        kept_threshold_percent=row.kept_threshold_percent,
        escalate_from_level=row.escalate_from_level,
        business_days=frozenset(int(d) for d in row.business_days.split(",") if d.strip()),
    )


async def get_promise(session: AsyncSession, promise_id: str, for_update: bool = False):
    return await _get(session, PromiseRow, promise_id, "promise", for_update)


async def invoices_of(session: AsyncSession, invoice_ids: list[str]) -> dict[str, InvoiceRow]:
    rows = await session.execute(select(InvoiceRow).where(InvoiceRow.id.in_(invoice_ids)))
    return {row.id: row for row in rows.scalars()}


async def open_promises_covering(session: AsyncSession, invoice_ids: list[str]) -> list[PromiseRow]:
    """The open promises on any of these invoices, locked, in id order."""
    covering = select(PromiseInvoiceRow.promise_id).where(
        PromiseInvoiceRow.invoice_id.in_(invoice_ids)
    )
    stmt = (
        select(PromiseRow)
        .where(PromiseRow.id.in_(covering), PromiseRow.state == PromiseState.OPEN.value)
        .order_by(PromiseRow.id)
        .with_for_update(of=PromiseRow)
    )
    return list((await session.execute(stmt)).scalars())


async def paid_on(session: AsyncSession, invoice_ids: list[str], since, until) -> int:
    """Payments allocated to these invoices between two instants (the promise and its deadline),
    net of their reversals (data/promise_payments.py)."""
    lines = PAID_LINES
    total = await session.scalar(
        select(func.coalesce(func.sum(lines.c.amount_minor), 0)).where(
            lines.c.invoice_id.in_(invoice_ids),
            lines.c.counted_at >= since,
            lines.c.counted_at <= until,
        )
    )
    return int(total or 0)


async def earlier_instalments(session: AsyncSession, promise: PromiseRow) -> int:
    """What the plan's earlier, still standing instalments promised."""
    p = PromiseRow
    total = await session.scalar(
        select(func.coalesce(func.sum(p.amount_minor), 0)).where(
            p.plan_id == promise.plan_id,
            p.instalment < promise.instalment,
            p.state.not_in((PromiseState.WITHDRAWN.value, PromiseState.CANCELLED.value)),
        )
    )
    return int(total or 0)


async def assignment(session: AsyncSession, customer_id: str) -> AssignmentRow | None:
    return await session.get(AssignmentRow, customer_id)


async def assignments_of(
    session: AsyncSession, customer_ids: list[str] | None, from_collector: str
) -> list[AssignmentRow]:
    """Locked: the listed customers' assignments, or every one of `from_collector`."""
    a = AssignmentRow
    where = a.customer_id.in_(customer_ids) if customer_ids else a.collector == from_collector
    stmt = select(a).where(where).order_by(a.customer_id).with_for_update()
    return list((await session.execute(stmt)).scalars())


async def existing_customers(session: AsyncSession, customer_ids: list[str]) -> set[str]:
    found = await session.execute(select(CustomerRow.id).where(CustomerRow.id.in_(customer_ids)))
    return set(found.scalars())


async def strategy(session: AsyncSession, version: int | None) -> WorklistStrategyRow:
    """A version, or the active one (None)."""
    s = WorklistStrategyRow
    if version is None:
        return await _get_by(session, s, s.active, True, "active worklist strategy")
    return await _get_by(session, s, s.version, version, "worklist strategy")


async def strategies_active(session: AsyncSession) -> list[WorklistStrategyRow]:
    stmt = select(WorklistStrategyRow).where(WorklistStrategyRow.active.is_(True))
    return list((await session.execute(stmt.with_for_update())).scalars())


async def last_strategy_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(WorklistStrategyRow.version))) or 0)


async def promises_of_plan(session: AsyncSession, plan_id: str) -> list[PromiseRow]:
    stmt = select(PromiseRow).where(PromiseRow.plan_id == plan_id).order_by(PromiseRow.instalment)
    return list((await session.execute(stmt)).scalars())


async def interaction(session: AsyncSession, interaction_id: str) -> InteractionRow:
    return await _get(session, InteractionRow, interaction_id, "interaction", False)


async def promises_of_interaction(session: AsyncSession, interaction_id: str) -> list[PromiseRow]:
    stmt = (
        select(PromiseRow)
        .where(PromiseRow.interaction_id == interaction_id)
        .order_by(PromiseRow.instalment)
    )
    return list((await session.execute(stmt)).scalars())


async def standing_allocations(
    session: AsyncSession, invoice_id: str, kind: SourceKind, source_id: str
) -> list[AllocationRow]:
    """What `source` applied to the invoice and no reversal has taken back yet, oldest first."""
    a = AllocationRow
    reversed_ = select(a.source_id).where(
        a.invoice_id == invoice_id, a.source_kind == SourceKind.REVERSAL.value
    )
    stmt = (
        select(a)
        .where(
            a.invoice_id == invoice_id,
            a.source_kind == kind.value,
            a.source_id == source_id,
            a.id.not_in(reversed_),
        )
        .order_by(a.created_at, a.id)
    )
    return list((await session.execute(stmt)).scalars())


async def reversed_amount(
    session: AsyncSession, invoice_id: str, kind: SourceKind, source_id: str
) -> int:
    """What reversals have taken back of `source`'s allocations on the invoice (positive)."""
    a, original = AllocationRow, aliased(AllocationRow)
    total = await session.scalar(
        select(func.coalesce(func.sum(a.amount_minor), 0))
        .join(original, original.id == a.source_id)
        .where(
            a.invoice_id == invoice_id,
            a.source_kind == SourceKind.REVERSAL.value,
            original.source_kind == kind.value,
            original.source_id == source_id,
        )
    )
    return -int(total or 0)


async def judged_promises_covering(session: AsyncSession, invoice_id: str) -> list[PromiseRow]:
    """The judged (KEPT, PARTIALLY_KEPT, BROKEN) promises on the invoice, locked, in id order."""
    covering = select(PromiseInvoiceRow.promise_id).where(
        PromiseInvoiceRow.invoice_id == invoice_id
    )
    stmt = (
        select(PromiseRow)
        .where(
            PromiseRow.id.in_(covering),
            PromiseRow.state.in_([s.value for s in JUDGED]),
        )
        .order_by(PromiseRow.id)
        .with_for_update(of=PromiseRow)
    )
    return list((await session.execute(stmt)).scalars())
