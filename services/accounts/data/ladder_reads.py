"""Reads of the dunning ladder's versions: one version, a ladder's versions page by page, and
the version in effect on a business date (what a run uses). Core statements built once, bound
parameters; each version arrives as the domain's `Ladder` with its creation time and creator."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select

from common.errors import FailedPrecondition
from services.accounts.data.dunning_models import (
    DunningLadderRow,
    DunningLevelRow,
    DunningToleranceRow,
)
from services.accounts.data.repository import missing
from services.accounts.domain.ladder import Action, Channel, Ladder, Level

_ld, _lv, _tl = DunningLadderRow.__table__, DunningLevelRow.__table__, DunningToleranceRow.__table__
_HEAD = (_ld.c.id, _ld.c.version, _ld.c.effective_from, _ld.c.created_at, _ld.c.created_by)
_ladder, _versions = bindparam("ladder"), bindparam("versions", expanding=True)


class LadderVersionRead(NamedTuple):
    ladder: Ladder
    created_at: datetime
    created_by: str  # the creator's actor id


_ONE = select(*_HEAD).where(_ld.c.id == _ladder, _ld.c.version == bindparam("version"))
_PAGE = (
    select(*_HEAD)
    .where(_ld.c.id == _ladder)
    .order_by(_ld.c.version.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
# The newest version in effect on the date, of the active ones.
_IN_EFFECT = (
    select(*_HEAD)
    .where(_ld.c.active.is_(True), _ld.c.effective_from <= bindparam("on"))
    .order_by(_ld.c.effective_from.desc(), _ld.c.version.desc())
    .limit(1)
)
_LAST = select(func.max(_ld.c.version)).where(_ld.c.id == _ladder)
_LEVELS = (
    select(_lv.c.ladder_version, _lv.c.number, _lv.c.code, _lv.c.offset_days, _lv.c.channel,
           _lv.c.template_id, _lv.c.min_days_between, _lv.c.actions)
    .where(_lv.c.ladder_id == _ladder, _lv.c.ladder_version.in_(_versions))
    .order_by(_lv.c.ladder_version, _lv.c.number)
)  # fmt: skip
_TOLERANCES = select(_tl.c.ladder_version, _tl.c.level, _tl.c.currency, _tl.c.minor).where(
    _tl.c.ladder_id == _ladder, _tl.c.ladder_version.in_(_versions)
)


async def _assembled(conn, heads) -> list[LadderVersionRead]:
    """The versions `heads` (all of one ladder) with their levels and tolerances: two
    statements whatever their number."""
    if not heads:
        return []
    params = {"ladder": heads[0].id, "versions": [h.version for h in heads]}
    tolerance: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for version, level, currency, minor in (await conn.execute(_TOLERANCES, params)).all():
        tolerance[(version, level)][currency] = int(minor)
    levels: dict[int, list[Level]] = defaultdict(list)
    for row in (await conn.execute(_LEVELS, params)).all():
        levels[row.ladder_version].append(
            Level(
                number=row.number,
                code=row.code,
                offset_days=row.offset_days,
                channel=Channel(row.channel),
                template_id=row.template_id,
                min_days_between=row.min_days_between,
                actions=tuple(Action(a) for a in row.actions),
                tolerance=tolerance[(row.ladder_version, row.number)],
            )
        )
    return [
        LadderVersionRead(
            Ladder(h.id, h.version, h.effective_from, tuple(levels[h.version])),
            h.created_at,
            h.created_by,
        )
        for h in heads
    ]


async def version(conn, ladder_id: str, number: int) -> LadderVersionRead:
    head = (await conn.execute(_ONE, {"ladder": ladder_id, "version": number})).first()
    if head is None:
        raise missing("dunning ladder version", f"{ladder_id}/versions/{number}")
    return (await _assembled(conn, [head]))[0]


async def versions(conn, ladder_id: str, offset: int, limit: int) -> list[LadderVersionRead]:
    """A ladder's versions, newest first; NOT_FOUND for a ladder without any."""
    params = {"ladder": ladder_id, "offset": offset, "limit": limit}
    heads = (await conn.execute(_PAGE, params)).all()
    if not heads and await last_version(conn, ladder_id) is None:
        raise missing("dunning ladder", ladder_id)
    return await _assembled(conn, heads)


async def in_effect(conn, on: date) -> Ladder:
    """The ladder a run on `on` uses: the newest active version effective on or before it."""
    head = (await conn.execute(_IN_EFFECT, {"on": on})).first()
    if head is None:
        raise FailedPrecondition(f"no dunning ladder is in effect on {on}", reason="NO_LADDER")
    return (await _assembled(conn, [head]))[0].ladder


async def last_version(conn, ladder_id: str) -> int | None:
    """The ladder's highest version number, None for an unknown ladder."""
    return (await conn.execute(_LAST, {"ladder": ladder_id})).scalar()
