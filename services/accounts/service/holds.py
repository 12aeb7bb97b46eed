"""Dispute holds and the ledger effects of dispute decisions. Called by the disputes service's
outbox: every request carries the event id as `request_id`, so each event applies once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from common.errors import FailedPrecondition, InvalidArgument
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.money import Money
from services.accounts.data import reads
from services.accounts.data import repository as repo
from services.accounts.data.models import CreditNoteRow, HoldRow, InvoiceRow
from services.accounts.data.reads import HoldRecord
from services.accounts.data.repository import missing
from services.accounts.domain import ledger
from services.accounts.domain.records import SourceKind
from services.accounts.service.context import AccountsContext
from services.accounts.service.ledger_ops import move_hold, open_hold, post_to_invoice


@dataclass(frozen=True)
class HoldChange:
    invoice_id: str
    dispute: str
    amount: Money | None  # None: the whole hold (release only)


# The invoice (row-locked: every hold change of an invoice queues here) and this dispute's hold
# on it, in one statement.
_invoices, _holds = InvoiceRow.__table__, HoldRow.__table__
_LOCK = (
    select(
        _invoices.c.currency,
        _invoices.c.open_minor,
        _invoices.c.held_minor,
        _holds.c.id.label("hold_id"),
        _holds.c.amount_minor.label("hold_minor"),
        _holds.c.created_at.label("hold_created_at"),
        _holds.c.updated_at.label("hold_updated_at"),
    )
    .outerjoin(
        _holds, (_holds.c.invoice_id == _invoices.c.id) & (_holds.c.dispute == bindparam("dispute"))
    )
    .where(_invoices.c.id == bindparam("invoice"))
    .with_for_update(of=_invoices)
)


async def _hold_and_invoice(session, change: HoldChange):
    """(the locked invoice's currency and amounts, this dispute's hold or None)."""
    params = {"invoice": change.invoice_id, "dispute": change.dispute}
    invoice = (await session.execute(_LOCK, params)).one_or_none()
    if invoice is None:
        raise missing("invoice", change.invoice_id)
    if change.amount is not None and change.amount.currency != invoice.currency:
        raise InvalidArgument.of(
            "amount.currency_code", f"must be the invoice currency {invoice.currency}"
        )
    if invoice.hold_id is None:
        return invoice, None
    hold = HoldRecord(
        invoice.hold_id,
        change.invoice_id,
        change.dispute,
        invoice.hold_minor,
        invoice.hold_created_at,
        invoice.hold_updated_at,
    )
    return invoice, hold


async def place_hold(ctx: AccountsContext, change: HoldChange, request: RequestKey) -> HoldRecord:
    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        amount = change.amount.minor
        ledger.check_hold(invoice.open_minor, invoice.held_minor, amount)
        if hold is None:
            hold = await open_hold(session, ctx.clock, change.invoice_id, change.dispute, amount)
        else:
            hold = await move_hold(session, ctx.clock, hold, amount)
        return hold.id, hold

    return await run_once(ctx.db, ctx.idempotency, "PlaceHold", request, create, reads.hold)


async def release_hold(ctx: AccountsContext, change: HoldChange, request: RequestKey) -> HoldRecord:
    async def create(session):
        _, hold = await _hold_and_invoice(session, change)
        if hold is None:
            raise FailedPrecondition("this dispute holds nothing on the invoice", reason="NO_HOLD")
        amount = change.amount.minor if change.amount else hold.amount_minor
        if amount:
            ledger.check_release(hold.amount_minor, amount)
            hold = await move_hold(session, ctx.clock, hold, -amount)
        return hold.id, hold

    return await run_once(ctx.db, ctx.idempotency, "ReleaseHold", request, create, reads.hold)


async def post_dispute_adjustment(
    ctx: AccountsContext,
    change: HoldChange,
    kind: SourceKind,
    reason_code: str,
    request: RequestKey,
) -> tuple[InvoiceRow, str]:
    """Credit or write off a disputed amount: the ledger line and the hold shrink together."""

    async def create(session):
        _, hold = await _hold_and_invoice(session, change)
        amount = change.amount.minor
        if hold is None or hold.amount_minor < amount:
            raise FailedPrecondition(
                "a dispute can only credit or write off what it holds", reason="EXCEEDS_HOLD"
            )
        await move_hold(session, ctx.clock, hold, -amount)
        # read after the move: the invoice's held amount and holds as they now are
        invoice = await repo.get_invoice(session, change.invoice_id)
        today = ctx.clock.today()
        source_id = change.dispute
        if kind is SourceKind.CREDIT_NOTE:
            note = CreditNoteRow(
                id=new_id(),
                customer_id=invoice.customer_id,
                currency=invoice.currency,
                amount_minor=amount,
                unallocated_minor=0,
                issue_date=today,
                reason=reason_code,
                dispute=change.dispute,
                created_at=ctx.clock.now(),
            )
            session.add(note)
            source_id = note.id
        post_to_invoice(session, ctx.clock, invoice, kind, source_id, amount, today, reason_code)
        return f"{invoice.id}|{source_id}", (invoice, source_id)

    async def replay(session, key: str):
        invoice_id, source_id = key.split("|")
        return await repo.get_invoice(session, invoice_id), source_id

    return await run_once(ctx.db, ctx.idempotency, "PostDisputeAdjustment", request, create, replay)
