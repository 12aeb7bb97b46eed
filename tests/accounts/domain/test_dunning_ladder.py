"""The ladder as data: DOMAIN.md's default seed, the level an invoice has reached, and the checks
that refuse a ladder which could not be run."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from common.errors import InvalidArgument
from services.accounts.domain.ladder import DEFAULT_LADDER, Action, Channel, Ladder, Level


def test_the_seed_is_domain_md_default():
    assert [(lv.code, lv.offset_days) for lv in DEFAULT_LADDER.levels] == [
        ("PRE_DUE", -3),
        ("FRIENDLY", 1),
        ("REMINDER", 15),
        ("FIRM", 30),
        ("FINAL", 45),
        ("STOP_CREDIT", 60),
        ("LEGAL", 90),
    ]
    stop, legal = DEFAULT_LADDER.level(6), DEFAULT_LADDER.level(7)
    assert stop.channel is Channel.PHONE_TASK
    assert Action.CREDIT_HOLD in stop.actions and Action.ESCALATE_TEAM_LEAD in stop.actions
    assert Action.ESCALATE_LEGAL in legal.actions
    assert DEFAULT_LADDER.level(5).channel is Channel.LETTER
    assert DEFAULT_LADDER.level(2).tolerance_for("EUR") == 500
    assert DEFAULT_LADDER.level(2).tolerance_for("JPY") == 500
    assert DEFAULT_LADDER.level(2).tolerance_for("SEK") == 0


@pytest.mark.parametrize(
    ("days", "code"),
    [(-4, None), (-3, "PRE_DUE"), (0, "PRE_DUE"), (1, "FRIENDLY"), (14, "FRIENDLY"),
     (15, "REMINDER"), (44, "FIRM"), (45, "FINAL"), (60, "STOP_CREDIT"), (89, "STOP_CREDIT"),
     (90, "LEGAL"), (4000, "LEGAL")],
)  # fmt: skip
def test_the_level_reached_is_the_highest_offset_not_after_the_days_past_due(days, code):
    reached = DEFAULT_LADDER.reached(days)
    assert (reached.code if reached else None) == code


def test_a_level_is_before_due_up_to_the_due_date():
    assert DEFAULT_LADDER.level(1).before_due and not DEFAULT_LADDER.level(2).before_due


def test_the_tolerances_cannot_be_changed_through_the_level():
    with pytest.raises(TypeError):
        DEFAULT_LADDER.level(1).tolerance["EUR"] = 0  # type: ignore[index]


def level(number: int, offset: int, **overrides) -> Level:
    values = {
        "number": number,
        "code": f"L{number}",
        "offset_days": offset,
        "channel": Channel.EMAIL,
        "template_id": "friendly",
        "min_days_between": 7,
    } | overrides
    return Level(**values)


@pytest.mark.parametrize(
    ("levels", "problem"),
    [
        ((), "at least one level"),
        ((level(1, 5), level(2, 5)), "strictly increase"),
        ((level(1, 5), level(2, 1)), "strictly increase"),
        ((level(2, 5),), "numbered"),
        ((level(1, 5, min_days_between=-1),), "negative"),
        ((level(1, 5, template_id=""),), "template"),
        ((level(1, 5, actions=()),), "action"),
        ((level(1, 5, tolerance={"EUR": -1}),), "tolerance EUR"),
    ],
)
def test_a_ladder_that_could_not_run_is_refused(levels, problem):
    with pytest.raises(InvalidArgument, match=problem):
        Ladder("custom", 1, date(2026, 1, 1), levels)


def test_an_unknown_currency_in_a_tolerance_is_refused_and_versions_start_at_one():
    with pytest.raises(InvalidArgument, match="currency"):
        Ladder("custom", 1, date(2026, 1, 1), (level(1, 5, tolerance={"EURO": 1}),))
    with pytest.raises(InvalidArgument, match="version"):
        replace(DEFAULT_LADDER, version=0)
