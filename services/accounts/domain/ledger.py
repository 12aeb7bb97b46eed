"""Rules of an invoice's ledger and holds, on integer minor units of one currency."""

from __future__ import annotations

from common.errors import FailedPrecondition, InvalidArgument


def collectible(open_minor: int, held_minor: int) -> int:
    return open_minor - held_minor


def check_allocation(
    invoice_number: str, open_minor: int, held_minor: int, amount_minor: int
) -> None:
    """Money applied to an invoice settles its collectible part; a disputed (held) part is settled
    through its dispute (credit, write-off, or hold release), never silently by cash."""
    if amount_minor <= 0:
        raise InvalidArgument.of("allocations.amount", "must be greater than zero")
    if amount_minor > collectible(open_minor, held_minor):
        raise FailedPrecondition(
            f"invoice {invoice_number}: allocation exceeds the collectible amount",
            reason="ALLOCATION_EXCEEDS_OPEN",
            metadata={"open_minor": open_minor, "held_minor": held_minor},
        )


def check_source_covers(unallocated_minor: int, requested_minor: int) -> None:
    if requested_minor > unallocated_minor:
        raise FailedPrecondition(
            "the allocations exceed the unallocated amount of the payment or credit note",
            reason="ALLOCATION_EXCEEDS_SOURCE",
        )


def check_hold(open_minor: int, held_minor: int, add_minor: int) -> None:
    """A hold can never exceed what is open: the sum of holds stays within the open amount."""
    if add_minor <= 0:
        raise InvalidArgument.of("amount.amount", "must be greater than zero")
    if held_minor + add_minor > open_minor:
        raise FailedPrecondition(
            "the hold would exceed the open amount of the invoice not yet held",
            reason="HOLD_EXCEEDS_OPEN",
            metadata={"open_minor": open_minor, "held_minor": held_minor},
        )


def check_release(hold_minor: int, release_minor: int) -> None:
    if release_minor <= 0:
        raise InvalidArgument.of("amount.amount", "must be greater than zero")
    if release_minor > hold_minor:
        raise FailedPrecondition("cannot release more than the hold", reason="RELEASE_EXCEEDS_HOLD")
