"""Dispute holds and the ledger effects of dispute decisions. Called by the disputes service's
outbox: every request carries the event id as `request_id`, so each event applies once."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import FailedPrecondition, InvalidArgument
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.money import Money
from services.accounts.data import customer_facts, reads, rows
from services.accounts.data import holds as hold_sql
from services.accounts.data import repository as repo
from services.accounts.data.models import CreditNoteRow, InvoiceRow
from services.accounts.data.reads import HoldRecord
from services.accounts.domain import ledger
from services.accounts.domain.records import FundsData, SourceKind
from services.accounts.service.context import AccountsContext
from services.accounts.service.ledger_ops import post_to_invoice, shrink_hold


@dataclass(frozen=True)
class HoldChange:
    invoice_id: str
    dispute: str
    amount: Money | None  # None: the whole hold (release only)


def _check_currency(change: HoldChange, invoice_currency: str) -> None:
    if change.amount is not None and change.amount.currency != invoice_currency:
        raise InvalidArgument.of(
            "amount.currency_code", f"must be the invoice currency {invoice_currency}"
        )


async def _hold_and_invoice(session, change: HoldChange):
    """(the locked invoice's currency and amounts, this dispute's hold or None)."""
    invoice, hold = await hold_sql.lock_invoice(session, change.invoice_id, change.dispute)
    _check_currency(change, invoice.currency)
    return invoice, hold


async def place_hold(
    ctx: AccountsContext, change: HoldChange, request: RequestKey
) -> tuple[HoldRecord, str]:
    """(the dispute's hold, grown by the amount or new; the invoice's currency)."""
    # A new hold's id is chosen first, so the request's key is stored complete in its one INSERT
    # (a hold that grows keeps its id, and the key is completed with it).
    new_hold_id = new_id()

    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        amount = change.amount.minor
        ledger.check_hold(invoice.open_minor, invoice.held_minor, amount)
        now = ctx.clock.now()
        if hold is None:
            hold = await hold_sql.open_hold(
                session, change.invoice_id, change.dispute, amount, now, new_hold_id
            )
        else:
            hold = await hold_sql.move_hold(session, hold, amount, now)
        await customer_facts.refresh(session, [invoice.customer_id], ctx.clock.today())
        return hold.id, (hold, invoice.currency)

    return await run_once(
        ctx.db, ctx.idempotency, "PlaceHold", request, create, reads.hold, resource_id=new_hold_id
    )


async def release_hold(
    ctx: AccountsContext, change: HoldChange, request: RequestKey
) -> tuple[HoldRecord, str]:
    """(the dispute's hold, shrunk by the amount or to zero; the invoice's currency)."""

    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        if hold is None:
            raise FailedPrecondition("this dispute holds nothing on the invoice", reason="NO_HOLD")
        amount = change.amount.minor if change.amount else hold.amount_minor
        if amount:
            ledger.check_release(hold.amount_minor, amount)
            hold = await hold_sql.move_hold(session, hold, -amount, ctx.clock.now())
        await customer_facts.refresh(session, [invoice.customer_id], ctx.clock.today())
        return hold.id, (hold, invoice.currency)

    return await run_once(ctx.db, ctx.idempotency, "ReleaseHold", request, create, reads.hold)


async def post_dispute_adjustment(
    ctx: AccountsContext,
    change: HoldChange,
    kind: SourceKind,
    reason_code: str,
    request: RequestKey,
) -> tuple[InvoiceRow, str]:
    """Credit or write off a disputed amount: the ledger line and the hold shrink together, in
    one ORM unit of work (the invoice row-locked)."""

    async def create(session):
        invoice = await repo.get_invoice(session, change.invoice_id, for_update=True)
        _check_currency(change, invoice.currency)
        hold = next((h for h in invoice.holds if h.dispute == change.dispute), None)
        amount = change.amount.minor
        if hold is None or hold.amount_minor < amount:
            raise FailedPrecondition(
                "a dispute can only credit or write off what it holds", reason="EXCEEDS_HOLD"
            )
        now, today = ctx.clock.now(), ctx.clock.today()
        shrink_hold(session, now, invoice, hold, amount)
        source_id = change.dispute
        if kind is SourceKind.CREDIT_NOTE:
            note = FundsData(
                invoice.customer_id, Money(amount, invoice.currency), today, reason=reason_code
            )
            source_id = new_id()
            session.add(
                CreditNoteRow(
                    **rows.credit_note(
                        source_id, note, now, unallocated_minor=0, dispute=change.dispute
                    )
                )
            )
        post_to_invoice(session, now, invoice, kind, source_id, amount, today, reason_code)
        await customer_facts.refresh(session, [invoice.customer_id], today)
        return f"{invoice.id}|{source_id}", (invoice, source_id)

    async def replay(session, key: str):
        invoice_id, source_id = key.split("|")
        return await repo.get_invoice(session, invoice_id), source_id

    return await run_once(ctx.db, ctx.idempotency, "PostDisputeAdjustment", request, create, replay)
