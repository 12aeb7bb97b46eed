"""The dunning ladder as data: versioned levels, each with its offset from the due date, channel,
template, pacing, tolerance per currency and the actions it takes.

`DEFAULT_LADDER` is the seed a migration writes (DOMAIN.md's default); a running system reads its
ladders from the database and never from this constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from common.errors import InvalidArgument
from common.money import currency_exponent


class Channel(StrEnum):
    EMAIL = "EMAIL"
    LETTER = "LETTER"
    PHONE_TASK = "PHONE_TASK"  # a worklist item for the collector, not a message


class Action(StrEnum):
    NOTICE = "NOTICE"  # contact the customer through the level's channel
    CREDIT_HOLD = "CREDIT_HOLD"  # set the customer's credit_hold flag
    ESCALATE_TEAM_LEAD = "ESCALATE_TEAM_LEAD"  # an escalation to TEAM_LEAD through the outbox
    ESCALATE_LEGAL = "ESCALATE_LEGAL"  # opens a legal case (domain/legal.py)


@dataclass(frozen=True)
class Level:
    number: int  # 1 = the first rung; a notice names its level by this number
    code: str  # UPPER_SNAKE, what reports and templates call it
    offset_days: int  # days after the due date (negative: before it)
    channel: Channel
    template_id: str
    min_days_between: int  # days since the customer's previous notice in this currency
    actions: tuple[Action, ...] = (Action.NOTICE,)
    # Minor units per ISO-4217 code; a notice totalling less is not sent. A currency not listed
    # has no tolerance: any dunnable amount is chased.
    tolerance: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", MappingProxyType(dict(self.tolerance)))

    @property
    def before_due(self) -> bool:
        """A pre-due reminder: it speaks of invoices not yet due, the others of overdue ones."""
        return self.offset_days <= 0

    def tolerance_for(self, currency: str) -> int:
        return self.tolerance.get(currency, 0)


@dataclass(frozen=True)
class Ladder:
    ladder_id: str
    version: int  # a change is a new version; notices keep the version they were sent under
    effective_from: date
    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.version < 1:
            problems.append("version must be 1 or more")
        if not self.levels:
            problems.append("a ladder needs at least one level")
        numbers = [level.number for level in self.levels]
        offsets = [level.offset_days for level in self.levels]
        if numbers != list(range(1, len(self.levels) + 1)):
            problems.append("levels are numbered 1, 2, 3 ... in order")
        if offsets != sorted(set(offsets)):
            problems.append("offsets strictly increase from level to level")
        for level in self.levels:
            if level.min_days_between < 0:
                problems.append(f"level {level.number}: min_days_between is negative")
            if not level.template_id or not level.actions:
                problems.append(f"level {level.number}: a template and an action are required")
            for currency, minor in level.tolerance.items():
                currency_exponent(currency)
                if type(minor) is not int or minor < 0:
                    problems.append(f"level {level.number}: tolerance {currency} must be >= 0")
        if problems:
            raise InvalidArgument(
                f"ladder {self.ladder_id} v{self.version}: " + "; ".join(problems)
            )

    def level(self, number: int) -> Level:
        return self.levels[number - 1]

    def reached(self, days_past_due: int) -> Level | None:
        """The highest level whose offset the invoice has reached, None before the first."""
        found = None
        for level in self.levels:
            if level.offset_days > days_past_due:
                break
            found = level
        return found


def _minor(major: int, currency: str) -> int:
    return major * 10 ** currency_exponent(currency)


# Tolerances of the seed: what a reminder is worth sending for, in whole units of each currency.
_SEED_TOLERANCE = {"EUR": 5, "USD": 5, "GBP": 5, "CHF": 5, "JPY": 500}

DEFAULT_LADDER = Ladder(
    ladder_id="default",
    version=1,
    effective_from=date(2026, 1, 1),
    levels=tuple(
        Level(
            number=number,
            code=code,
            offset_days=offset,
            channel=channel,
            template_id=template,
            min_days_between=pacing,
            actions=actions,
            tolerance={c: _minor(major, c) for c, major in _SEED_TOLERANCE.items()},
        )
        for number, (code, offset, channel, template, pacing, actions) in enumerate(
            [
                ("PRE_DUE", -3, Channel.EMAIL, "pre_due", 0, (Action.NOTICE,)),
                ("FRIENDLY", 1, Channel.EMAIL, "friendly", 3, (Action.NOTICE,)),
                ("REMINDER", 15, Channel.EMAIL, "reminder", 10, (Action.NOTICE,)),
                ("FIRM", 30, Channel.EMAIL, "firm", 10, (Action.NOTICE,)),
                ("FINAL", 45, Channel.LETTER, "final", 10, (Action.NOTICE,)),
                (
                    "STOP_CREDIT",
                    60,
                    Channel.PHONE_TASK,
                    "stop_credit",
                    10,
                    (Action.NOTICE, Action.CREDIT_HOLD, Action.ESCALATE_TEAM_LEAD),
                ),
                ("LEGAL", 90, Channel.LETTER, "legal", 10, (Action.NOTICE, Action.ESCALATE_LEGAL)),
            ],
            start=1,
        )
    ),
)
