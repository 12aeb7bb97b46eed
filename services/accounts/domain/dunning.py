"""One dunning decision for one customer in one currency on one business date: a Notice at one
level of the ladder, or a Skip with the reason nothing is sent.

The amount chased per invoice is `collectible.to_collect` (open − held − promised − in legal −
claimed as paid, never below zero), the one arithmetic shared with the worklist and every
"collectible" figure, so a held or promised cent is never in a notice's total. A level is sent
once per invoice: an invoice takes part in a new notice only when it has reached a level above
the highest one a previous notice listed it at, and the notice's level is the highest any invoice it
chases has reached. Running the decision again after the notice is recorded answers
Skip(NO_NEW_LEVEL); a customer gets at most one notice per currency and business date, and the
idempotency key stops two runs of the same day from both sending.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from common.errors import InvalidArgument
from services.accounts.domain.collectible import to_collect
from services.accounts.domain.ladder import Ladder, Level

_KEY_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", re.ASCII)


class SkipReason(StrEnum):
    CUSTOMER_FLAGGED = "CUSTOMER_FLAGGED"  # bankruptcy, in litigation or a dunning block
    NOTHING_DUNNABLE = "NOTHING_DUNNABLE"  # every due cent is held, promised, with Legal or paid
    NO_NEW_LEVEL = "NO_NEW_LEVEL"  # no invoice reached a level it was not yet dunned at
    COVERED_BY_UNALLOCATED_CASH = "COVERED_BY_UNALLOCATED_CASH"  # apply the cash, don't chase
    BELOW_TOLERANCE = "BELOW_TOLERANCE"  # the level's tolerance for the currency
    TOO_SOON = "TOO_SOON"  # the level's minimum days since the previous notice


@dataclass(frozen=True)
class InvoicePosition:
    """An invoice's amounts on the business date, in minor units of the run's currency."""

    invoice_id: str
    number: str
    due_date: date
    open_minor: int
    held_minor: int = 0  # under dispute
    promised_minor: int = 0  # covered by an open promise to pay
    in_legal_minor: int = 0
    claimed_paid_minor: int = 0  # the customer says it is paid, not yet applied


@dataclass(frozen=True)
class CustomerFlags:
    bankruptcy: bool = False
    in_litigation: bool = False
    dunning_block: bool = False

    @property
    def any(self) -> bool:
        return self.bankruptcy or self.in_litigation or self.dunning_block


@dataclass(frozen=True)
class PreviousNotice:
    level: int
    sent_on: date
    invoice_ids: frozenset[str]


@dataclass(frozen=True)
class NoticeLine:
    invoice_id: str
    number: str
    due_date: date
    days_past_due: int
    open_minor: int
    in_dispute_minor: int
    promised_minor: int
    in_legal_minor: int
    claimed_paid_minor: int
    due_now_minor: int


@dataclass(frozen=True)
class NoticeKey:
    """Idempotency key of a notice: one per customer, currency, level and business date."""

    customer_id: str
    currency: str
    level: int
    business_date: date

    def __post_init__(self) -> None:
        if not _KEY_PART.fullmatch(self.customer_id):
            raise InvalidArgument.of("customer_id", "letters, digits, '_' or '-' only")

    @property
    def text(self) -> str:
        """Also safe as a file name and a Message-ID's local part."""
        return f"dun.{self.customer_id}.{self.currency}.{self.level}.{self.business_date:%Y%m%d}"


@dataclass(frozen=True)
class Notice:
    key: NoticeKey
    ladder_id: str
    ladder_version: int
    level: Level
    currency: str
    lines: tuple[NoticeLine, ...]
    unallocated_cash_minor: int

    @property
    def total_minor(self) -> int:
        return sum(line.due_now_minor for line in self.lines)

    @property
    def dunned_invoice_ids(self) -> frozenset[str]:
        """The invoices this notice chases: those recorded as dunned at its level."""
        return frozenset(line.invoice_id for line in self.lines if line.due_now_minor > 0)


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str = ""


def decide(
    *,
    customer_id: str,
    currency: str,
    invoices: Sequence[InvoicePosition],
    flags: CustomerFlags,
    unallocated_cash_minor: int,
    previous: Iterable[PreviousNotice],
    ladder: Ladder,
    business_date: date,
) -> Notice | Skip:
    """The decision for one customer × currency. `previous` are this customer's earlier notices
    in this currency; `invoices` its open invoices in it."""
    if flags.any:
        return _flagged(flags)
    previous = tuple(previous)
    last_level = _last_level_per_invoice(previous)

    candidates: list[tuple[InvoicePosition, Level, int]] = []  # reached a level, chaseable
    for invoice in invoices:
        days = (business_date - invoice.due_date).days
        reached = ladder.reached(days)
        if reached is None:
            continue
        due_now = to_collect(
            invoice.open_minor,
            invoice.held_minor,
            invoice.promised_minor,
            invoice.in_legal_minor,
            invoice.claimed_paid_minor,
        )
        candidates.append((invoice, reached, due_now))
    if not any(due_now > 0 for _, _, due_now in candidates):
        return Skip(SkipReason.NOTHING_DUNNABLE)

    fresh = [
        reached.number
        for invoice, reached, due_now in candidates
        if due_now > 0 and reached.number > last_level.get(invoice.invoice_id, 0)
    ]
    if not fresh:
        return Skip(SkipReason.NO_NEW_LEVEL)
    # An overdue notice lists the overdue invoices, a pre-due one those about to fall due; its
    # level is the most serious one any chased invoice in it has reached.
    before_due = ladder.level(max(fresh)).before_due
    listed = sorted(
        (c for c in candidates if c[1].before_due == before_due), key=lambda c: c[0].due_date
    )
    level = ladder.level(max(reached.number for _, reached, due_now in listed if due_now > 0))
    lines = tuple(_line(invoice, business_date, due_now) for invoice, _, due_now in listed)
    total = sum(line.due_now_minor for line in lines)
    if unallocated_cash_minor >= total:
        return Skip(SkipReason.COVERED_BY_UNALLOCATED_CASH, f"{unallocated_cash_minor} >= {total}")
    tolerance = level.tolerance_for(currency)
    if total < tolerance:
        return Skip(SkipReason.BELOW_TOLERANCE, f"{total} < {tolerance}")
    if previous:
        latest = max(notice.sent_on for notice in previous)
        waited = (business_date - latest).days
        pacing = max(level.min_days_between, 1)  # never two notices on one business date
        if waited < pacing:
            return Skip(SkipReason.TOO_SOON, f"{waited} < {pacing} days")
    return Notice(
        key=NoticeKey(customer_id, currency, level.number, business_date),
        ladder_id=ladder.ladder_id,
        ladder_version=ladder.version,
        level=level,
        currency=currency,
        lines=lines,
        unallocated_cash_minor=unallocated_cash_minor,
    )


@dataclass(frozen=True)
class ChaseCounts:
    """What a run reads in SQL before any invoice, per customer × currency (data/dunning_batch):
    of the open invoices with more open than held, how many reached the ladder, and how many
    reached a level above the highest one a previous notice chased them at; whether any open
    promise of the customer could take an amount out."""

    chaseable: int
    fresh: int
    promised: bool


def decide_without_books(flags: CustomerFlags, counts: ChaseCounts) -> Skip | None:
    """The decision `decide` would answer, when these alone settle it (None: read the books).
    Flags come first; with nothing chaseable nothing is dunnable; with something chaseable but
    nothing fresh and no promise (which could zero what is chaseable) no new level is reached."""
    if flags.any:
        return _flagged(flags)
    if counts.chaseable == 0:
        return Skip(SkipReason.NOTHING_DUNNABLE)
    if counts.fresh == 0 and not counts.promised:
        return Skip(SkipReason.NO_NEW_LEVEL)
    return None


def _flagged(flags: CustomerFlags) -> Skip:
    named = [n for n in ("bankruptcy", "in_litigation", "dunning_block") if getattr(flags, n)]
    return Skip(SkipReason.CUSTOMER_FLAGGED, ", ".join(named))


def _last_level_per_invoice(previous: Iterable[PreviousNotice]) -> dict[str, int]:
    last: dict[str, int] = {}
    for notice in previous:
        for invoice_id in notice.invoice_ids:
            last[invoice_id] = max(last.get(invoice_id, 0), notice.level)
    return last


def _line(invoice: InvoicePosition, business_date: date, due_now: int) -> NoticeLine:
    return NoticeLine(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        due_date=invoice.due_date,
        days_past_due=(business_date - invoice.due_date).days,
        open_minor=invoice.open_minor,
        in_dispute_minor=invoice.held_minor,
        promised_minor=invoice.promised_minor,
        in_legal_minor=invoice.in_legal_minor,
        claimed_paid_minor=invoice.claimed_paid_minor,
        due_now_minor=due_now,
    )
