"""The amount waterfall of a disputed invoice, and where a resolution sends the money.

original disputed = still disputed + paid + credited + written off, in integer minor units of
the case's one currency; every bucket is ≥ 0. `paid` is what went back to collection: the
customer pays it (unjustified dispute, withdrawn, voided, the rest of a partial resolution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from common.errors import DomainError, FailedPrecondition, InvalidArgument, Violations


class Outcome(StrEnum):
    CREDITED = "CREDITED"
    REBILLED = "REBILLED"
    CUSTOMER_PAYS = "CUSTOMER_PAYS"
    PARTIAL = "PARTIAL"
    WRITTEN_OFF = "WRITTEN_OFF"
    WITHDRAWN = "WITHDRAWN"
    DUPLICATE = "DUPLICATE"


class WaterfallBroken(DomainError):
    """A change would break the invariant: a bug, never user input. Nothing is written."""

    reason = "WATERFALL_BROKEN"


@dataclass(frozen=True)
class Waterfall:
    original: int
    still: int
    paid: int = 0
    credited: int = 0
    written_off: int = 0

    def __post_init__(self) -> None:
        parts = (self.still, self.paid, self.credited, self.written_off)
        if self.original <= 0 or min(parts) < 0 or sum(parts) != self.original:
            raise WaterfallBroken(f"amount waterfall broken: {self}")

    @classmethod
    def opened(cls, amount: int) -> Waterfall:
        return cls(original=amount, still=amount)

    def settle(self, *, credit: int = 0, write_off: int = 0, pay: int = 0) -> Waterfall:
        """Moves amounts out of `still disputed`; refuses to move more than is still disputed."""
        if min(credit, write_off, pay) < 0:
            raise InvalidArgument.of("amount", "must not be negative")
        if credit + write_off + pay > self.still:
            raise FailedPrecondition(
                "cannot settle more than is still disputed",
                reason="EXCEEDS_DISPUTED",
                metadata={"still_disputed_minor": self.still},
            )
        return replace(
            self,
            still=self.still - credit - write_off - pay,
            paid=self.paid + pay,
            credited=self.credited + credit,
            written_off=self.written_off + write_off,
        )


@dataclass(frozen=True)
class Settlement:
    """What one invoice's resolution does: ledger entries and hold release, all from `still`."""

    invoice_id: str
    credit: int = 0
    write_off: int = 0
    pay: int = 0  # hold released back to collection

    @property
    def total(self) -> int:
        return self.credit + self.write_off + self.pay


@dataclass(frozen=True)
class Decision:
    invoice_id: str
    credit: int = 0
    write_off: int = 0


_WHOLE = {
    Outcome.CREDITED: "credit",
    Outcome.REBILLED: "credit",
    Outcome.WRITTEN_OFF: "write_off",
    Outcome.CUSTOMER_PAYS: "pay",
    Outcome.WITHDRAWN: "pay",
    Outcome.DUPLICATE: "pay",
}


def settlements(
    outcome: Outcome, still: Mapping[str, int], decisions: Sequence[Decision] = ()
) -> list[Settlement]:
    """Every still-disputed amount ends somewhere. Only PARTIAL takes per-invoice decisions;
    its remainder goes back to collection."""
    outcome = Outcome(outcome)
    if outcome is not Outcome.PARTIAL:
        if decisions:
            raise InvalidArgument.of("decisions", "are only for a PARTIAL outcome")
        bucket = _WHOLE[outcome]
        return [Settlement(i, **{bucket: amount}) for i, amount in still.items() if amount]
    v = Violations()
    by_invoice: dict[str, Decision] = {}
    for n, d in enumerate(decisions):
        field = f"decisions[{n}]"
        v.require(d.invoice_id in still, f"{field}.invoice", "is not an invoice of this case")
        v.require(d.invoice_id not in by_invoice, f"{field}.invoice", "is given twice")
        v.require(min(d.credit, d.write_off) >= 0, field, "amounts must not be negative")
        if d.invoice_id in still and d.credit + d.write_off > still[d.invoice_id]:
            v.add(field, "credit + write-off exceed what is still disputed on the invoice")
        by_invoice[d.invoice_id] = d
    v.require(
        any(d.credit or d.write_off for d in decisions),
        "decisions",
        "a PARTIAL outcome needs a credit or write-off on at least one invoice",
    )
    v.raise_if_any()
    result = []
    for invoice_id, amount in still.items():
        d = by_invoice.get(invoice_id, Decision(invoice_id))
        rest = amount - d.credit - d.write_off
        if amount:
            result.append(Settlement(invoice_id, d.credit, d.write_off, rest))
    return result


def release_all(still: Mapping[str, int]) -> list[Settlement]:
    """Withdraw and void: every hold goes back to collection."""
    return [Settlement(i, pay=amount) for i, amount in still.items() if amount]
