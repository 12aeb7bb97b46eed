"""The status machine: the table is the whole truth, and any walk through it keeps clocks sane."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import FailedPrecondition
from services.disputes.domain.status import (
    ACTIVE,
    TRANSITIONS,
    Action,
    ClockOp,
    Status,
    clock_changes,
    next_status,
)

FINAL = {Status.WITHDRAWN, Status.VOIDED}


def test_the_documented_happy_path():
    path = [
        (Action.ASSIGN, Status.OPEN),
        (Action.START, Status.IN_PROGRESS),
        (Action.PAUSE, Status.PENDING_CUSTOMER),
        (Action.RESUME, Status.IN_PROGRESS),
        (Action.ESCALATE, Status.PENDING_INTERNAL),
        (Action.ANSWER, Status.IN_PROGRESS),
        (Action.RESOLVE, Status.RESOLVED),
        (Action.CLOSE, Status.CLOSED),
        (Action.REOPEN, Status.REOPENED),
    ]
    status = Status.NEW
    for action, expected in path:
        status = next_status(status, action)
        assert status == expected


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_pair_is_either_in_the_table_or_refused(status, action):
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
    else:
        with pytest.raises(FailedPrecondition) as info:
            next_status(status, action)
        assert info.value.reason == "INVALID_TRANSITION"


def test_withdrawn_and_voided_are_final_and_closed_only_reopens():
    for status in FINAL:
        assert not [a for (s, a) in TRANSITIONS if s == status]
    assert [a for (s, a) in TRANSITIONS if s == Status.CLOSED] == [Action.REOPEN]


@given(st.lists(st.sampled_from(list(Action)), max_size=40))
def test_any_walk_keeps_the_clocks_consistent(actions):
    status = Status.NEW
    clocks = {"ACKNOWLEDGE": "RUNNING", "RESOLVE": "RUNNING"}
    for action in actions:
        try:
            after = next_status(status, action)
        except FailedPrecondition:
            continue
        for change in clock_changes(status, after, dict(clocks)):
            if change.op is ClockOp.RESTART:
                assert change.kind == "RESOLVE" and change.kind not in clocks
                clocks[change.kind] = "RUNNING"
                continue
            assert change.kind in clocks, (status, after, change)
            if change.op is ClockOp.PAUSE:
                assert change.kind == "RESOLVE" and clocks[change.kind] == "RUNNING"
                clocks[change.kind] = "PAUSED"
            elif change.op is ClockOp.RESUME:
                assert clocks[change.kind] == "PAUSED"
                clocks[change.kind] = "RUNNING"
            else:
                del clocks[change.kind]
        status = after
        # the resolve clock is paused exactly in PENDING_CUSTOMER, never in PENDING_INTERNAL
        assert (clocks.get("RESOLVE") == "PAUSED") == (status == Status.PENDING_CUSTOMER)
        if status in ACTIVE:
            assert "RESOLVE" in clocks
        else:
            assert not clocks
        if status not in (Status.NEW, Status.OPEN, Status.REOPENED):
            assert "ACKNOWLEDGE" not in clocks
