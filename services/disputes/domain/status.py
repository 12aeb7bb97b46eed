"""The case status machine (DOMAIN.md): one transition table, and what each move does to clocks.

NEW → OPEN (assigned) → IN_PROGRESS → PENDING_CUSTOMER | PENDING_INTERNAL → RESOLVED → CLOSED,
plus WITHDRAWN, VOIDED and REOPENED. Anything not in the table is refused as FAILED_PRECONDITION.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.errors import FailedPrecondition


class Status(StrEnum):
    NEW = "NEW"
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING_CUSTOMER = "PENDING_CUSTOMER"
    PENDING_INTERNAL = "PENDING_INTERNAL"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    WITHDRAWN = "WITHDRAWN"
    VOIDED = "VOIDED"
    REOPENED = "REOPENED"


class Action(StrEnum):
    ASSIGN = "ASSIGN"
    START = "START"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    ESCALATE = "ESCALATE"
    RESOLVE = "RESOLVE"
    CLOSE = "CLOSE"
    WITHDRAW = "WITHDRAW"
    VOID = "VOID"
    REOPEN = "REOPEN"
    ANSWER = "ANSWER"  # an escalation came back


S, A = Status, Action
# Cases that still hold money and are being worked.
ACTIVE = frozenset(
    {S.NEW, S.OPEN, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.REOPENED}
)
WORKING = frozenset({S.OPEN, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL})

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.NEW, A.ASSIGN): S.OPEN,
    (S.REOPENED, A.ASSIGN): S.OPEN,
    **{(s, A.ASSIGN): s for s in WORKING},  # re-assignment keeps the status
    (S.OPEN, A.START): S.IN_PROGRESS,
    (S.REOPENED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.PAUSE): S.PENDING_CUSTOMER,
    (S.PENDING_CUSTOMER, A.RESUME): S.IN_PROGRESS,
    (S.PENDING_INTERNAL, A.RESUME): S.IN_PROGRESS,
    (S.PENDING_INTERNAL, A.ANSWER): S.IN_PROGRESS,
    **{
        (s, A.ESCALATE): S.PENDING_INTERNAL
        for s in (S.OPEN, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.REOPENED)
    },
    **{(s, A.RESOLVE): S.RESOLVED for s in (*WORKING, S.REOPENED)},
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    **{(s, A.WITHDRAW): S.WITHDRAWN for s in ACTIVE},
    **{(s, A.VOID): S.VOIDED for s in ACTIVE},
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
}


def next_status(current: Status, action: Action) -> Status:
    target = TRANSITIONS.get((Status(current), Action(action)))
    if target is None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == current)
        raise FailedPrecondition(
            f"cannot {action.lower()} a {current} case"
            + (f"; allowed: {', '.join(allowed)}" if allowed else "; the case is final"),
            reason="INVALID_TRANSITION",
            metadata={"status": current, "action": action},
        )
    return target


def allowed_actions(current: Status) -> list[Action]:
    return sorted(a for (s, a) in TRANSITIONS if s == current)


class ClockOp(StrEnum):
    MEET = "MEET"
    CANCEL = "CANCEL"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    RESTART = "RESTART"  # a new clock of this kind (reopened case)


@dataclass(frozen=True)
class ClockChange:
    kind: str  # ACKNOWLEDGE | RESOLVE
    op: ClockOp


_ACKNOWLEDGED = frozenset({S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED})


def clock_changes(before: Status, after: Status, running: dict[str, str]) -> list[ClockChange]:
    """What a move does to the clocks. `running` maps clock kind → RUNNING | PAUSED for the
    case's live clocks (stopped ones are absent).

    The acknowledge clock is met by the first real work (start, pause, escalate, resolve); the
    resolve clock pauses only in PENDING_CUSTOMER (PENDING_INTERNAL keeps it running: the
    company is still the one working), is met on RESOLVED, and a reopened case gets a new one.
    """
    changes: list[ClockChange] = []
    ack, res = running.get("ACKNOWLEDGE"), running.get("RESOLVE")
    if after in (S.WITHDRAWN, S.VOIDED):
        return [ClockChange(k, ClockOp.CANCEL) for k in sorted(running)]
    if ack and after in _ACKNOWLEDGED:
        changes.append(ClockChange("ACKNOWLEDGE", ClockOp.MEET))
    if after == S.REOPENED:
        return [*changes, ClockChange("RESOLVE", ClockOp.RESTART)]
    if res == "RUNNING" and after == S.PENDING_CUSTOMER:
        changes.append(ClockChange("RESOLVE", ClockOp.PAUSE))
    elif res and after == S.RESOLVED:
        changes.append(ClockChange("RESOLVE", ClockOp.MEET))
    elif res == "PAUSED" and after != S.PENDING_CUSTOMER:
        changes.append(ClockChange("RESOLVE", ClockOp.RESUME))
    return changes
