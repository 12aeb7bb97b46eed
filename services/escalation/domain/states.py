"""The escalation state machine as a table: (state, action) → next state and clock effect.

Anything not in the table is a wrong state (FAILED_PRECONDITION), so adding a transition is adding
a line here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.errors import FailedPrecondition
from services.escalation.domain.values import State


class Action(StrEnum):
    CLAIM = "CLAIM"
    ASSIGN = "ASSIGN"
    REQUEST_INFO = "REQUEST_INFO"
    PROVIDE_INFO = "PROVIDE_INFO"
    RESPOND = "RESPOND"
    HAND_BACK = "HAND_BACK"
    RESOLVE = "RESOLVE"


class ClockEffect(StrEnum):
    NONE = "NONE"
    PAUSE = "PAUSE"  # waiting on the raiser is not the team's time
    RESUME = "RESUME"
    MEET = "MEET"  # the team answered: the response OLA is met (a no-op if already stopped)


@dataclass(frozen=True)
class Transition:
    to: State
    clock: ClockEffect = ClockEffect.NONE


S, A, C = State, Action, ClockEffect
_CLOSE = {A.HAND_BACK: Transition(S.HANDED_BACK, C.MEET)}
TRANSITIONS: dict[State, dict[Action, Transition]] = {
    S.OPEN: {
        A.CLAIM: Transition(S.CLAIMED),
        A.ASSIGN: Transition(S.CLAIMED),
        **_CLOSE,
    },
    S.CLAIMED: {
        A.ASSIGN: Transition(S.CLAIMED),
        A.REQUEST_INFO: Transition(S.INFO_REQUESTED, C.PAUSE),
        A.RESPOND: Transition(S.RESPONDED, C.MEET),
        A.RESOLVE: Transition(S.RESOLVED, C.MEET),
        **_CLOSE,
    },
    S.INFO_REQUESTED: {
        A.ASSIGN: Transition(S.INFO_REQUESTED),
        A.PROVIDE_INFO: Transition(S.CLAIMED, C.RESUME),
        A.RESPOND: Transition(S.RESPONDED, C.MEET),
        **_CLOSE,
    },
    S.RESPONDED: {
        A.ASSIGN: Transition(S.RESPONDED),
        A.RESPOND: Transition(S.RESPONDED),  # amend the answer before resolving
        A.RESOLVE: Transition(S.RESOLVED, C.MEET),
        **_CLOSE,
    },
    S.RESOLVED: {},
    S.HANDED_BACK: {},
}


def allowed_actions(state: State) -> list[Action]:
    return list(TRANSITIONS[state])


def transition(state: State, action: Action) -> Transition:
    found = TRANSITIONS[state].get(action)
    if found is None:
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "nothing (it is closed)"
        raise FailedPrecondition(
            f"cannot {action.value.lower().replace('_', ' ')} an escalation that is {state.value};"
            f" allowed: {allowed}",
            reason="WRONG_STATE",
            metadata={"state": state.value, "action": action.value},
        )
    return found
