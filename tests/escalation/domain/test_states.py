"""The state machine, pure: every (state, action) pair is either in the table or refused."""

from __future__ import annotations

import pytest

from common.errors import FailedPrecondition
from services.escalation.domain.states import TRANSITIONS, Action, ClockEffect, transition
from services.escalation.domain.values import CLOSED_STATES, State


def test_closed_states_allow_nothing():
    for state in CLOSED_STATES:
        for action in Action:
            with pytest.raises(FailedPrecondition) as info:
                transition(state, action)
            assert info.value.reason == "WRONG_STATE"
            assert "closed" in info.value.message


def test_every_pair_is_decided_and_open_states_can_always_be_handed_back():
    for state in State:
        for action in Action:
            if action in TRANSITIONS[state]:
                assert transition(state, action).to in State
            else:
                with pytest.raises(FailedPrecondition):
                    transition(state, action)
        if state not in CLOSED_STATES:
            assert transition(state, Action.HAND_BACK).to is State.HANDED_BACK


def test_only_a_claimed_escalation_can_be_resolved_or_asked_about():
    assert transition(State.CLAIMED, Action.RESOLVE).to is State.RESOLVED
    assert transition(State.RESPONDED, Action.RESOLVE).to is State.RESOLVED
    for state in (State.OPEN, State.INFO_REQUESTED):
        with pytest.raises(FailedPrecondition):
            transition(state, Action.RESOLVE)
    with pytest.raises(FailedPrecondition):
        transition(State.OPEN, Action.REQUEST_INFO)


def test_clock_effects_pause_for_the_raiser_and_stop_at_the_first_answer():
    assert transition(State.CLAIMED, Action.REQUEST_INFO).clock is ClockEffect.PAUSE
    assert transition(State.INFO_REQUESTED, Action.PROVIDE_INFO).clock is ClockEffect.RESUME
    for state, action in (
        (State.CLAIMED, Action.RESPOND),
        (State.OPEN, Action.HAND_BACK),
        (State.CLAIMED, Action.RESOLVE),
    ):
        assert transition(state, action).clock is ClockEffect.MEET
    assert transition(State.OPEN, Action.CLAIM).clock is ClockEffect.NONE
