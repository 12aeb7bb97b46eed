"""The dunning run (RunDunning and the daily worker): per batch of claimed customers one
transaction that reads their books, lets `domain/dunning.decide` answer per customer × currency,
and records the notices (queued for delivery), the decisions, the credit holds, the escalations
and the Legal hand-overs. The amounts are read in the transaction that records the notice, under
the claim's lock; a notice's key is unique and a recorded notice makes the next decision
NO_NEW_LEVEL (or TOO_SOON), so running again sends nothing twice."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from common.ids import new_id
from services.accounts.data import customer_facts, dunning_rows, ladder_reads
from services.accounts.data import dunning_batch as sql
from services.accounts.data.dunning_batch import ClaimedCustomer, OpenInvoice
from services.accounts.domain import dunning
from services.accounts.domain.dunning import (
    CustomerFlags,
    InvoicePosition,
    Notice,
    PreviousNotice,
    Skip,
)
from services.accounts.domain.ladder import Action, Channel, Ladder
from services.accounts.domain.legal import LegalTrigger
from services.accounts.outbound.dunning_escalations import stop_credit_row
from services.accounts.service.context import AccountsContext
from services.accounts.service.legal_handover import hand_over
from services.accounts.service.promised import Promised, promised_on

NOTICE = "NOTICE"
DUNNING_RUN = "dunning"  # what AfterCommit.changed says: the notice sender wakes for it


@dataclass(frozen=True)
class Decision:
    customer_id: str
    currency: str
    outcome: str  # NOTICE or a SkipReason
    detail: str
    notice_id: str | None = None
    level: int = 0
    total_minor: int = 0


@dataclass
class RunSummary:
    business_date: date
    evaluated: int = 0
    notices: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    decisions: list[Decision] = field(default_factory=list)


def positions(
    invoices: Iterable[OpenInvoice], promised: Promised
) -> dict[tuple[str, str], list[InvoicePosition]]:
    """Each open invoice's amounts per (customer, currency): held by disputes, covered by open
    promises (placed by domain/collectible.py's one rule, as every collectible figure)."""
    found: dict[tuple[str, str], list[InvoicePosition]] = defaultdict(list)
    for i in invoices:
        found[(i.customer_id, i.currency)].append(
            InvoicePosition(
                invoice_id=i.id,
                number=i.number,
                due_date=i.due_date,
                open_minor=i.open_minor,
                held_minor=i.held_minor,
                promised_minor=promised.on(i.id),
            )
        )
    return found


async def run_dunning(
    ctx: AccountsContext,
    business_date: date,
    *,
    customers: Sequence[str] | None = None,
    reevaluate: bool = False,
    batch: int | None = None,
    keep_decisions: bool = False,
) -> RunSummary:
    """Evaluates every customer not yet evaluated on `business_date` (all of them again with
    `reevaluate`), or only `customers`; one transaction per batch of `batch` customers (default
    the service's `dunning_batch`). On PostgreSQL `ctx.dunning_lanes` batches are evaluated side
    by side, as replicas would be: one lane's Python runs while another waits for the database."""
    summary = RunSummary(business_date)
    before = business_date + timedelta(days=1) if reevaluate else business_date
    claims = _Claims(after="", before=before, limit=batch or ctx.dunning_batch, named=customers)
    lanes = ctx.dunning_lanes if ctx.db.is_postgres else 1  # SQLite: one writer at a time
    try:
        async with asyncio.TaskGroup() as running:
            for _ in range(lanes):
                running.create_task(_lane(ctx, claims, business_date, summary, keep_decisions))
    except* Exception as failed:  # a lane failed, the others were stopped (rolled back)
        raise failed.exceptions[0] from None
    return summary


@dataclass
class _Claims:
    """The lanes' shared cursor: each claim starts after the last one claimed, so that with
    `reevaluate` (customers already evaluated that day are claimable again) no lane claims a
    batch another has just committed."""

    after: str
    before: date
    limit: int
    named: Sequence[str] | None
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def next(self, session) -> list[ClaimedCustomer]:
        async with self.turn:
            claimed = await sql.claim(
                session, after=self.after, before=self.before, limit=self.limit, named=self.named
            )
            if claimed:
                self.after = claimed[-1].id
            return claimed


async def _lane(
    ctx: AccountsContext,
    claims: _Claims,
    business_date: date,
    summary: RunSummary,
    keep_decisions: bool,
) -> None:
    while True:
        async with ctx.db.transaction() as session:
            claimed = await claims.next(session)
            if not claimed:
                return
            await _evaluate(ctx, session, claimed, business_date, summary, keep_decisions)
        ctx.after_commit.changed(DUNNING_RUN)


async def _evaluate(
    ctx: AccountsContext,
    session,
    claimed: list[ClaimedCustomer],
    business_date: date,
    summary: RunSummary,
    keep_decisions: bool,
) -> None:
    now = ctx.clock.now()
    ids = [c.id for c in claimed]
    ladder: Ladder = await ladder_reads.in_effect(session, business_date)
    with_legal = await sql.with_active_legal_case(session, ids)
    flags = {
        c.id: CustomerFlags(c.bankruptcy, c.in_litigation, c.dunning_block or c.id in with_legal)
        for c in claimed
    }
    # Most customers are settled by counts read in SQL (flagged, nothing chaseable, no new
    # level): only the books of the others are read and placed.
    counts = await sql.chase_counts(session, ids, ladder, business_date)
    currencies: dict[str, set[str]] = defaultdict(set)
    settled: dict[tuple[str, str], Skip] = {}
    for (customer_id, currency), count in counts.items():
        currencies[customer_id].add(currency)
        skip = dunning.decide_without_books(flags[customer_id], count)
        if skip is not None:
            settled[(customer_id, currency)] = skip
    to_read = [c for c in ids if any((c, k) not in settled for k in currencies[c])]
    reach_by = business_date - timedelta(days=ladder.levels[0].offset_days)
    books = await sql.books(session, to_read, reach_by)
    promised = await promised_on(session, to_read)
    owed = positions(books.invoices, promised)
    notices: list[dict] = []
    lines: list[dict] = []
    decisions: list[dict] = []
    outbox: list[dict] = []
    holds: list[str] = []
    to_legal: list[ClaimedCustomer] = []
    for customer in claimed:
        legal_reached = False
        for currency in sorted(currencies[customer.id]):
            key = (customer.id, currency)
            decision = settled.get(key) or dunning.decide(
                customer_id=customer.id,
                currency=currency,
                invoices=owed.get(key, ()),
                flags=flags[customer.id],
                unallocated_cash_minor=books.cash.get(key, 0),
                previous=[PreviousNotice(*p) for p in books.previous.get(key, [])],
                ladder=ladder,
                business_date=business_date,
            )
            if isinstance(decision, Skip):
                made = Decision(customer.id, currency, decision.reason.value, decision.detail)
                summary.skipped[decision.reason.value] += 1
            else:
                notice_id = new_id()
                notices.append(dunning_rows.notice(notice_id, decision, now))
                lines += dunning_rows.notice_lines(notice_id, decision)
                outbox += _actions(ctx, customer, decision, holds)
                legal_reached |= Action.ESCALATE_LEGAL in decision.level.actions
                made = Decision(
                    customer.id, currency, NOTICE, decision.key.text, notice_id,
                    decision.level.number, decision.total_minor,
                )  # fmt: skip
                summary.notices += 1
            decisions.append(
                dunning_rows.decision(business_date, customer.id, currency, made.outcome,
                                      made.detail, made.notice_id, now)
            )  # fmt: skip
            if keep_decisions:
                summary.decisions.append(made)
        if legal_reached and customer.id not in with_legal:
            to_legal.append(customer)
    legal: list = []
    if to_legal:  # the hand-over's snapshot lists every open invoice: add those not yet due
        later = await sql.open_invoices(session, [c.id for c in to_legal], reach_by, False)
        whole = defaultdict(list, {key: list(found) for key, found in owed.items()})
        for key, found in positions(later, promised).items():
            whole[key] += found  # due later than every invoice read: due-date order kept
        for customer in to_legal:
            handed = hand_over(
                ctx.outbox,
                customer_id=customer.id,
                customer_name=customer.display_name,
                reason=LegalTrigger.LADDER_LEGAL_LEVEL,
                positions={c: whole[(customer.id, c)] for c in currencies[customer.id]},
                as_of=business_date,
                now=now,
                by="rule:dunning",
            )
            legal.append((handed.case, handed.snapshot, handed.event))
            outbox.append(handed.escalation)
    summary.evaluated += len(claimed)
    await sql.record(
        session,
        business_date=business_date,
        customer_ids=ids,
        notices=notices,
        notice_lines=lines,
        decisions=decisions,
        credit_holds=holds,
        blocked=[c.id for c in to_legal],
        outbox=outbox,
        legal=legal,
    )
    tasked = [n["customer_id"] for n in notices if n["channel"] == Channel.PHONE_TASK.value]
    await customer_facts.refresh(session, tasked, ctx.clock.today())  # a worklist fact


def _actions(
    ctx: AccountsContext, customer: ClaimedCustomer, notice: Notice, holds: list[str]
) -> list[dict]:
    """The level's actions beside the notice itself: a credit hold, the team lead told."""
    events = []
    if Action.CREDIT_HOLD in notice.level.actions:
        holds.append(customer.id)
    if Action.ESCALATE_TEAM_LEAD in notice.level.actions:
        events.append(
            stop_credit_row(
                ctx.outbox,
                customer_id=customer.id,
                customer_name=customer.display_name,
                notice_key=notice.key.text,
                total_minor=notice.total_minor,
                currency=notice.currency,
            )
        )
    return events
