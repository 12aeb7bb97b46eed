"""What an interaction's outcome code requires, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from common.errors import Violations


class Requirement(StrEnum):
    NONE = "NONE"
    PROMISE = "PROMISE"
    DISPUTE = "DISPUTE"
    CALL_BACK_TIME = "CALL_BACK_TIME"


class Channel(StrEnum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    LETTER = "LETTER"
    PORTAL = "PORTAL"
    MEETING = "MEETING"


class Direction(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


@dataclass(frozen=True)
class InteractionData:
    customer_id: str
    billing_account_id: str | None
    invoice_ids: tuple[str, ...]
    dispute: str
    channel: Channel
    direction: Direction
    contact_position: int | None
    contact_text: str
    outcome_code: str
    note: str
    occurred_at: datetime | None  # None: now
    duration_s: int
    call_back_at: datetime | None


def check_requirement(
    requires: Requirement, data: InteractionData, has_promise: bool, v: Violations
) -> None:
    """An outcome that requires a promise, a dispute or a call-back time without it is refused
    (INVALID_ARGUMENT, nothing written); a promise given with any other outcome too."""
    code = data.outcome_code
    if requires is Requirement.PROMISE:
        v.require(has_promise, "promise_plan", f"outcome {code} requires the promise it records")
    elif has_promise:
        v.add("promise_plan", f"outcome {code} does not record a promise")
    if requires is Requirement.DISPUTE:
        v.require(bool(data.dispute), "interaction.dispute", f"outcome {code} requires the case")
    if requires is Requirement.CALL_BACK_TIME:
        v.require(
            data.call_back_at is not None,
            "interaction.call_back_time",
            f"outcome {code} requires a call-back time",
        )
