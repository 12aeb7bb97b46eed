"""Hand-over of an account to Legal: when a case opens, the amounts it takes over (a snapshot at
the hand-over date), and the states that follow Legal's answers.

While a case is not CLOSED the customer is not dunned and Legal is told of every posting on the
customer; both follow from `LegalCase.active`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from common.errors import FailedPrecondition, InvalidArgument
from services.accounts.domain.collectible import to_collect
from services.accounts.domain.dunning import CustomerFlags, InvoicePosition


class LegalTrigger(StrEnum):
    BANKRUPTCY = "BANKRUPTCY"
    IN_LITIGATION = "IN_LITIGATION"
    LADDER_LEGAL_LEVEL = "LADDER_LEGAL_LEVEL"


class LegalState(StrEnum):
    HANDED_OVER = "HANDED_OVER"  # open: Legal has the account, has not answered yet
    CLAIM_FILED = "CLAIM_FILED"
    AGENCY_ASSIGNED = "AGENCY_ASSIGNED"
    SETTLED = "SETTLED"
    WRITTEN_OFF = "WRITTEN_OFF"
    CLOSED = "CLOSED"


L = LegalState
# Legal answers with the state it has reached; these are the answers it may give from each state.
TRANSITIONS: Mapping[LegalState, frozenset[LegalState]] = {
    L.HANDED_OVER: frozenset(
        {L.CLAIM_FILED, L.AGENCY_ASSIGNED, L.SETTLED, L.WRITTEN_OFF, L.CLOSED}
    ),
    L.CLAIM_FILED: frozenset({L.AGENCY_ASSIGNED, L.SETTLED, L.WRITTEN_OFF}),
    L.AGENCY_ASSIGNED: frozenset({L.CLAIM_FILED, L.SETTLED, L.WRITTEN_OFF}),
    L.SETTLED: frozenset({L.CLOSED}),
    L.WRITTEN_OFF: frozenset({L.CLOSED}),
    L.CLOSED: frozenset(),
}


def trigger(
    flags: CustomerFlags, *, legal_level_reached: bool, has_active_case: bool
) -> LegalTrigger | None:
    """Why an account goes to Legal now, or None: bankruptcy first, then litigation, then the
    ladder's Legal level. An account with an active case is not handed over twice."""
    if has_active_case:
        return None
    if flags.bankruptcy:
        return LegalTrigger.BANKRUPTCY
    if flags.in_litigation:
        return LegalTrigger.IN_LITIGATION
    if legal_level_reached:
        return LegalTrigger.LADDER_LEGAL_LEVEL
    return None


@dataclass(frozen=True)
class SnapshotLine:
    invoice_id: str
    number: str
    due_date: date
    open_minor: int
    held_minor: int
    promised_minor: int
    to_collect_minor: int


@dataclass(frozen=True)
class HandOverSnapshot:
    """What the account owed in one currency on the hand-over date; never changed afterwards."""

    as_of: date
    currency: str
    lines: tuple[SnapshotLine, ...]

    @property
    def open_minor(self) -> int:
        return sum(line.open_minor for line in self.lines)

    @property
    def held_minor(self) -> int:
        return sum(line.held_minor for line in self.lines)

    @property
    def to_collect_minor(self) -> int:
        return sum(line.to_collect_minor for line in self.lines)


def snapshot(as_of: date, currency: str, invoices: Iterable[InvoicePosition]) -> HandOverSnapshot:
    """Amounts at hand-over; `in legal` is what this snapshot hands over, so it is not subtracted
    (the invoices' in-legal amounts are set from `to_collect_minor` when the case opens)."""
    return HandOverSnapshot(
        as_of=as_of,
        currency=currency,
        lines=tuple(
            SnapshotLine(
                invoice_id=invoice.invoice_id,
                number=invoice.number,
                due_date=invoice.due_date,
                open_minor=invoice.open_minor,
                held_minor=invoice.held_minor,
                promised_minor=invoice.promised_minor,
                to_collect_minor=to_collect(
                    invoice.open_minor,
                    invoice.held_minor,
                    invoice.promised_minor,
                    0,
                    invoice.claimed_paid_minor,
                ),
            )
            for invoice in sorted(invoices, key=lambda i: (i.due_date, i.number))
            if invoice.open_minor > 0
        ),
    )


@dataclass(frozen=True)
class LegalEvent:
    state: LegalState
    at: datetime
    by: str
    note: str


@dataclass(frozen=True)
class LegalCase:
    case_id: str
    customer_id: str
    trigger: LegalTrigger
    snapshots: tuple[HandOverSnapshot, ...]  # one per currency the customer owes in
    state: LegalState
    history: tuple[LegalEvent, ...]

    @property
    def active(self) -> bool:
        """Dunning is suspended and Legal hears of every posting while this is true."""
        return self.state is not LegalState.CLOSED


def open_case(
    *,
    case_id: str,
    customer_id: str,
    reason: LegalTrigger,
    snapshots: Iterable[HandOverSnapshot],
    at: datetime,
    by: str,
) -> LegalCase:
    taken = tuple(snapshots)
    currencies = [s.currency for s in taken]
    if len(set(currencies)) != len(currencies):
        raise InvalidArgument.of("snapshots", "one snapshot per currency")
    return LegalCase(
        case_id=case_id,
        customer_id=customer_id,
        trigger=reason,
        snapshots=taken,
        state=LegalState.HANDED_OVER,
        history=(LegalEvent(LegalState.HANDED_OVER, at, by, reason.value),),
    )


def answer(case: LegalCase, reached: LegalState, *, at: datetime, by: str, note: str) -> LegalCase:
    """Legal's answer moves the case to the state it names, if the table allows that move."""
    if reached not in TRANSITIONS[case.state]:
        raise FailedPrecondition(
            f"a legal case in {case.state} cannot become {reached}",
            reason="LEGAL_CASE_STATE",
            metadata={"state": case.state, "answer": reached},
        )
    return replace(case, state=reached, history=(*case.history, LegalEvent(reached, at, by, note)))
