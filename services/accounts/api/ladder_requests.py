"""Protobuf requests of the dunning ladder RPCs -> validated names and domain levels. Every
problem of a request is reported at once as a field violation; nothing here touches the
database."""

from __future__ import annotations

import re
from datetime import date

from common import validation
from common.errors import InvalidArgument, Violations
from common.protoconv import parse_date, parse_money
from services.accounts.domain.ladder import Action, Channel, Level
from settle.accounts.v1 import accounts_pb2 as pb

MAX_LEVELS = 15  # the run's counts are prebuilt per ladder length up to this many
MAX_TOLERANCES = 200
_LADDER_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # dunning_ladders.id is 32 wide
_CHANNELS = {c.value for c in Channel}
_ACTIONS = {a.value for a in Action}


def ladder_name(name: str, field: str) -> str:
    """'dunningLadders/<ladder>' -> '<ladder>'."""
    ladder = name.removeprefix("dunningLadders/")
    if not name.startswith("dunningLadders/") or not _LADDER_ID.match(ladder):
        raise InvalidArgument.of(field, "must look like 'dunningLadders/{ladder}'")
    return ladder


def version_name(name: str, field: str = "name") -> tuple[str, int]:
    """'dunningLadders/<ladder>/versions/<n>' -> ('<ladder>', n)."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "dunningLadders"
        or parts[2] != "versions"
        or not _LADDER_ID.match(parts[1])
        or not parts[3].isascii()
        or not parts[3].isdigit()
        or not 0 < int(parts[3]) < 2**31
    ):
        raise InvalidArgument.of(field, "must look like 'dunningLadders/{ladder}/versions/{n}'")
    return parts[1], int(parts[3])


def levels(msgs, field: str, v: Violations) -> tuple[Level, ...]:
    """The levels in order: numbered 1, 2, 3 ..., offsets strictly increasing, each with a
    channel, a template, at least one action (no repeats), tolerances once per currency."""
    validation.repeated(msgs, field, v, limit=MAX_LEVELS)
    v.require(len(msgs) > 0, field, "at least one level is required")
    out: list[Level] = []
    previous_offset: int | None = None
    for i, msg in enumerate(msgs[:MAX_LEVELS]):
        f = f"{field}[{i}]"
        v.require(msg.number == i + 1, f"{f}.number", f"must be {i + 1} (levels are in order)")
        v.require(
            previous_offset is None or msg.offset_days > previous_offset,
            f"{f}.offset_days", "must be greater than the previous level's",
        )  # fmt: skip
        v.require(-365 <= msg.offset_days <= 3650, f"{f}.offset_days", "is out of range")
        previous_offset = msg.offset_days
        code = validation.code(msg.code, f"{f}.code", v)
        channel = msg.channel.strip().upper()
        v.require(channel in _CHANNELS, f"{f}.channel", "must be EMAIL, LETTER or PHONE_TASK")
        template = validation.text(msg.template_id, f"{f}.template_id", v, required=True)
        v.require(0 <= msg.min_days_between <= 3650, f"{f}.min_days_between", "is out of range")
        validation.repeated(msg.actions, f"{f}.actions", v, limit=len(_ACTIONS))
        actions = [a.strip().upper() for a in msg.actions]
        v.require(bool(actions), f"{f}.actions", "at least one action is required")
        v.require(
            set(actions) <= _ACTIONS,
            f"{f}.actions", "each is NOTICE, CREDIT_HOLD, ESCALATE_TEAM_LEAD or ESCALATE_LEGAL",
        )  # fmt: skip
        v.require(len(set(actions)) == len(actions), f"{f}.actions", "lists an action twice")
        validation.repeated(msg.tolerances, f"{f}.tolerances", v, limit=MAX_TOLERANCES)
        tolerance: dict[str, int] = {}
        for j, money in enumerate(msg.tolerances[:MAX_TOLERANCES]):
            parsed = parse_money(money, f"{f}.tolerances[{j}]", v, positive=False)
            if parsed is None:
                continue
            if parsed.is_negative():
                v.add(f"{f}.tolerances[{j}].amount", "must not be negative")
            if parsed.currency in tolerance:
                v.add(f"{f}.tolerances[{j}].currency_code", "lists a currency twice")
            tolerance[parsed.currency] = parsed.minor
        if v.items:
            continue  # the level is not built: the request is refused anyway
        out.append(
            Level(
                number=msg.number, code=code, offset_days=msg.offset_days,
                channel=Channel(channel), template_id=template,
                min_days_between=msg.min_days_between,
                actions=tuple(Action(a) for a in actions), tolerance=tolerance,
            )
        )  # fmt: skip
    return tuple(out)


def ladder_version(
    msg: pb.DunningLadderVersion, v: Violations, field: str = "ladder_version"
) -> tuple[date | None, tuple[Level, ...]]:
    """(effective from, or None for today; the levels)."""
    effective_from = parse_date(msg.effective_from, f"{field}.effective_from", v, required=False)
    return effective_from, levels(msg.levels, f"{field}.levels", v)
