"""Dispute holds and the ledger effects of dispute decisions. Called by the disputes service's
outbox: every request carries the event id as `request_id`, so each event applies once."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import FailedPrecondition, InvalidArgument
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.money import Money
from services.accounts import repository as repo
from services.accounts.domain import ledger
from services.accounts.domain.records import SourceKind
from services.accounts.models import CreditNoteRow, HoldRow, InvoiceRow
from services.accounts.service.context import AccountsContext
from services.accounts.service.ledger_ops import move_hold, post_to_invoice


@dataclass(frozen=True)
class HoldChange:
    invoice_id: str
    dispute: str
    amount: Money | None  # None: the whole hold (release only)


def _same_currency(invoice: InvoiceRow, amount: Money | None) -> None:
    if amount is not None and amount.currency != invoice.currency:
        raise InvalidArgument.of(
            "amount.currency_code", f"must be the invoice currency {invoice.currency}"
        )


async def _hold_and_invoice(session, change: HoldChange):
    invoice = await repo.get_invoice(session, change.invoice_id, for_update=True)
    _same_currency(invoice, change.amount)
    return invoice, await repo.hold_for(session, invoice.id, change.dispute)


async def place_hold(ctx: AccountsContext, change: HoldChange, request: RequestKey) -> HoldRow:
    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        ledger.check_hold(invoice.open_minor, invoice.held_minor, change.amount.minor)
        if hold is None:
            now = ctx.clock.now()
            hold = HoldRow(
                id=new_id(),
                invoice_id=invoice.id,
                dispute=change.dispute,
                amount_minor=0,
                created_at=now,
                updated_at=now,
            )
            session.add(hold)
            await session.flush()  # the hold row before its first movement (foreign key)
        move_hold(session, ctx.clock, invoice, hold, change.amount.minor)
        return hold.id, hold

    return await run_once(ctx.db, ctx.idempotency, "PlaceHold", request, create, _replay_hold)


async def release_hold(ctx: AccountsContext, change: HoldChange, request: RequestKey) -> HoldRow:
    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        if hold is None:
            raise FailedPrecondition("this dispute holds nothing on the invoice", reason="NO_HOLD")
        amount = change.amount.minor if change.amount else hold.amount_minor
        if amount:
            ledger.check_release(hold.amount_minor, amount)
            move_hold(session, ctx.clock, invoice, hold, -amount)
        return hold.id, hold

    return await run_once(ctx.db, ctx.idempotency, "ReleaseHold", request, create, _replay_hold)


async def _replay_hold(session, hold_id: str) -> HoldRow:
    return await session.get(HoldRow, hold_id)


async def post_dispute_adjustment(
    ctx: AccountsContext,
    change: HoldChange,
    kind: SourceKind,
    reason_code: str,
    request: RequestKey,
) -> tuple[InvoiceRow, str]:
    """Credit or write off a disputed amount: the ledger line and the hold shrink together."""

    async def create(session):
        invoice, hold = await _hold_and_invoice(session, change)
        amount = change.amount.minor
        if hold is None or hold.amount_minor < amount:
            raise FailedPrecondition(
                "a dispute can only credit or write off what it holds", reason="EXCEEDS_HOLD"
            )
        move_hold(session, ctx.clock, invoice, hold, -amount)
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
