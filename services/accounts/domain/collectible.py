"""The one arithmetic of what is still to collect (DOMAIN.md, "Figures, defined once"): the same
figure drives the worklist, dunning and every "collectible" column."""

from __future__ import annotations


def to_collect(
    open_minor: int,
    held_minor: int,
    promised_minor: int,
    in_legal_minor: int = 0,
    claimed_paid_minor: int = 0,
) -> int:
    """open − held (disputes) − covered by open promises − in legal − claimed as paid, never
    below zero. Minor units of one currency."""
    return max(0, open_minor - held_minor - promised_minor - in_legal_minor - claimed_paid_minor)
