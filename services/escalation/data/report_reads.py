"""Display reads of the escalation reports (docs/reports.md §12): Core statements built once,
every value a bound parameter, one record type each. A team-scoped caller (common/team_scope.py)
reads only its own team's escalations."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, String, and_, bindparam, cast, func, or_, select

from common.db.types import UtcDateTime
from services.escalation.data.models import EscalationRow, HistoryRow, ResponseClockRow

_escalations, _clocks = EscalationRow.__table__, ResponseClockRow.__table__
_team = bindparam("team", type_=String)  # "" for every team
_start = bindparam("start", type_=UtcDateTime())
_end = bindparam("end", type_=UtcDateTime())  # exclusive
_visible = or_(_team == "", _escalations.c.team == _team)


def _in_period(column):
    return and_(column >= _start, column < _end)


class JudgedClock(NamedTuple):
    """A response clock judged in the period: stopped (answered) in it, or breached with its due
    time in it while still unanswered. `fired` lists its milestones, BREACH among them if late."""

    team: str
    fired: str
    stopped: bool
    business_spent_us: int  # the OLA's measure: business time until the answer


_JUDGED = (
    select(
        _escalations.c.team,
        _clocks.c.fired,
        _clocks.c.stopped_at.is_not(None),
        _clocks.c.spent_before_us,
    )
    .select_from(_clocks.join(_escalations, _escalations.c.id == _clocks.c.escalation_id))
    .where(
        _clocks.c.status != "CANCELLED",
        or_(
            _in_period(_clocks.c.stopped_at),
            and_(
                _clocks.c.stopped_at.is_(None),
                _clocks.c.fired.contains("BREACH"),
                _in_period(_escalations.c.response_due_at),
            ),
        ),
        _visible,
    )
    .order_by(_escalations.c.team)
)


async def judged_clocks(conn, start: datetime, end: datetime, team: str) -> list[JudgedClock]:
    rows = await conn.execute(_JUDGED, {"start": start, "end": end, "team": team})
    return [JudgedClock(*row) for row in rows]


class ReasonOutcome(NamedTuple):
    team: str
    reason_code: str
    outcome_code: str  # "" while unanswered
    currency: str  # "" for escalations without an amount
    escalations: int
    amount_minor: int


_currency = func.coalesce(_escalations.c.amount_currency, "").label("currency")
_BY_REASON = (
    select(
        _escalations.c.team,
        _escalations.c.reason_code,
        _escalations.c.outcome_code,
        _currency,
        cast(func.count(), BigInteger),
        cast(func.coalesce(func.sum(_escalations.c.amount_minor), 0), BigInteger),
    )
    .where(_in_period(_escalations.c.created_at), _visible)
    .group_by(
        _escalations.c.team, _escalations.c.reason_code, _escalations.c.outcome_code, _currency
    )
    .order_by(
        _escalations.c.team, _escalations.c.reason_code, _escalations.c.outcome_code, _currency
    )
)


async def by_reason_and_outcome(
    conn, start: datetime, end: datetime, team: str
) -> list[ReasonOutcome]:
    """The escalations raised in [start, end) per team, reason, outcome and currency."""
    rows = await conn.execute(_BY_REASON, {"start": start, "end": end, "team": team})
    return [ReasonOutcome(*row) for row in rows]


class Watermark(NamedTuple):
    escalations: int
    latest_update: datetime | None
    history_id: int | None

    def text(self) -> str:
        at = self.latest_update.isoformat().replace("+00:00", "Z") if self.latest_update else "-"
        return f"escalations={self.escalations}@{at};history={self.history_id or 0}"


_WATERMARK = select(
    select(func.count()).select_from(_escalations).scalar_subquery(),
    select(func.max(_escalations.c.updated_at)).scalar_subquery(),
    select(func.max(HistoryRow.__table__.c.id)).scalar_subquery(),
)


async def watermark(conn) -> Watermark:
    return Watermark(*(await conn.execute(_WATERMARK)).one())
