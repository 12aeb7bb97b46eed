"""Display reads of the disputes reports (docs/reports.md): Core statements built once, every
value a bound parameter, one record type each. A case's owning team is its root cause's; a
team-scoped caller (common/team_scope.py) reads only the cases escalated to its team."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    BindParameter,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)

from common.db.types import UtcDateTime
from services.disputes.data.models import (
    ClockRow,
    DisputeItemRow,
    DisputeRow,
    DisputeTeamRow,
    HistoryRow,
    MilestoneRow,
    RootCauseRow,
)

_disputes, _items, _causes = DisputeRow.__table__, DisputeItemRow.__table__, RootCauseRow.__table__
_clocks, _milestones, _teams = ClockRow.__table__, MilestoneRow.__table__, DisputeTeamRow.__table__
_team = bindparam("team", type_=String)  # "" for every team
_start = bindparam("start", type_=UtcDateTime())
_end = bindparam("end", type_=UtcDateTime())  # exclusive
_statuses: BindParameter[list[str]] = bindparam("statuses", expanding=True)
_visible = or_(
    _team == "",
    exists().where(_teams.c.dispute_id == _disputes.c.id, _teams.c.team == _team),
)
_owning_team = func.coalesce(_causes.c.owning_team, "").label("owning_team")
_root_cause = func.coalesce(_disputes.c.root_cause_code, "").label("root_cause")
_with_cause = _disputes.outerjoin(_causes, _causes.c.code == _disputes.c.root_cause_code)


def _bigint(expression):
    return cast(expression, BigInteger)


class OpenGroup(NamedTuple):
    reason_code: str
    root_cause: str
    owning_team: str
    currency: str
    cases: int
    disputed_minor: int  # Σ the items' original disputed amounts
    still_minor: int  # Σ what is still disputed


_OPEN = (
    select(
        _disputes.c.reason_code,
        _root_cause,
        _owning_team,
        _disputes.c.currency,
        _bigint(func.count(func.distinct(_disputes.c.id))),
        _bigint(func.sum(_items.c.original_minor)),
        _bigint(func.sum(_items.c.still_minor)),
    )
    .select_from(_with_cause.join(_items, _items.c.dispute_id == _disputes.c.id))
    .where(_disputes.c.status.in_(_statuses), _visible)
    .group_by(_disputes.c.reason_code, _root_cause, _owning_team, _disputes.c.currency)
    .order_by(_disputes.c.reason_code, _root_cause, _owning_team, _disputes.c.currency)
)


async def open_groups(conn, statuses: list[str], team: str) -> list[OpenGroup]:
    rows = await conn.execute(_OPEN, {"statuses": statuses, "team": team})
    return [OpenGroup(*row) for row in rows]


class OpenByProcessor(NamedTuple):
    assignee: str  # "" for a case nobody works on yet
    currency: str
    cases: int
    disputed_minor: int
    still_minor: int
    oldest_opened: datetime


_OPEN_BY_PROCESSOR = (
    select(
        _disputes.c.assignee,
        _disputes.c.currency,
        _bigint(func.count(func.distinct(_disputes.c.id))),
        _bigint(func.sum(_items.c.original_minor)),
        _bigint(func.sum(_items.c.still_minor)),
        func.min(_disputes.c.created_at),
    )
    .select_from(_disputes.join(_items, _items.c.dispute_id == _disputes.c.id))
    .where(_disputes.c.status.in_(_statuses), _visible)
    .group_by(_disputes.c.assignee, _disputes.c.currency)
    .order_by(_disputes.c.assignee, _disputes.c.currency)
)


async def open_by_processor(conn, statuses: list[str], team: str) -> list[OpenByProcessor]:
    rows = await conn.execute(_OPEN_BY_PROCESSOR, {"statuses": statuses, "team": team})
    return [OpenByProcessor._make(row) for row in rows]


class OpenByCustomer(NamedTuple):
    customer_id: str
    currency: str
    cases: int
    disputed_minor: int
    still_minor: int


_still = _bigint(func.sum(_items.c.still_minor))
_OPEN_BY_CUSTOMER = (
    select(
        _disputes.c.customer_id,
        _disputes.c.currency,
        _bigint(func.count(func.distinct(_disputes.c.id))),
        _bigint(func.sum(_items.c.original_minor)),
        _still,
    )
    .select_from(_disputes.join(_items, _items.c.dispute_id == _disputes.c.id))
    .where(_disputes.c.status.in_(_statuses), _visible)
    .group_by(_disputes.c.customer_id, _disputes.c.currency)
    .order_by(_disputes.c.currency, _still.desc(), _disputes.c.customer_id)
)


async def open_by_customer(conn, statuses: list[str], team: str) -> list[OpenByCustomer]:
    """Per customer and currency, by still-disputed amount descending (ties by customer id)."""
    rows = await conn.execute(_OPEN_BY_CUSTOMER, {"statuses": statuses, "team": team})
    return [OpenByCustomer._make(row) for row in rows]


class CaseTimes(NamedTuple):
    """A case's reason, root cause, currency, amounts and when it was opened and resolved."""

    reason_code: str
    root_cause: str
    currency: str
    created_at: datetime
    resolved_at: datetime | None
    disputed_minor: int
    credited_minor: int
    written_off_minor: int


_CASE_COLUMNS = (
    _disputes.c.reason_code,
    _root_cause,
    _disputes.c.currency,
    _disputes.c.created_at,
    _disputes.c.resolved_at,
    _bigint(func.sum(_items.c.original_minor)),
    _bigint(func.sum(_items.c.credited_minor)),
    _bigint(func.sum(_items.c.written_off_minor)),
)
_CASE_GROUP = (
    _disputes.c.id,
    _disputes.c.reason_code,
    _root_cause,
    _disputes.c.currency,
    _disputes.c.created_at,
    _disputes.c.resolved_at,
)


def _in_period(column):
    return and_(column >= _start, column < _end)


_CASES_TOUCHED = (
    select(*_CASE_COLUMNS)
    .select_from(_with_cause.join(_items, _items.c.dispute_id == _disputes.c.id))
    .where(or_(_in_period(_disputes.c.created_at), _in_period(_disputes.c.resolved_at)), _visible)
    .group_by(*_CASE_GROUP)
    .order_by(_disputes.c.created_at)
)


async def cases_created_or_resolved(
    conn, start: datetime, end: datetime, team: str
) -> list[CaseTimes]:
    """The cases opened or resolved in [start, end)."""
    rows = await conn.execute(_CASES_TOUCHED, {"start": start, "end": end, "team": team})
    return [CaseTimes(*row) for row in rows]


class ClockJudgement(NamedTuple):
    kind: str
    policy_id: str
    owning_team: str
    met: int
    breached: int


_breach = _milestones.alias("breach")
_judged_breached = _breach.c.fired_at.is_not(None)
_SLA = (
    select(
        _clocks.c.kind,
        _clocks.c.policy_id,
        _owning_team,
        _bigint(func.sum(case((_judged_breached, 0), else_=1))),
        _bigint(func.sum(case((_judged_breached, 1), else_=0))),
    )
    .select_from(
        _clocks.join(_disputes, _disputes.c.id == _clocks.c.dispute_id)
        .outerjoin(_causes, _causes.c.code == _disputes.c.root_cause_code)
        .outerjoin(
            _breach,
            and_(
                _breach.c.clock_id == _clocks.c.id,
                _breach.c.name == "BREACH",
                _breach.c.fired_at.is_not(None),
            ),
        )
    )
    .where(
        or_(
            _in_period(_breach.c.fired_at),
            and_(
                _breach.c.fired_at.is_(None),
                _clocks.c.status != "CANCELLED",
                _in_period(_clocks.c.stopped_at),
            ),
        ),
        _visible,
    )
    .group_by(_clocks.c.kind, _clocks.c.policy_id, _owning_team)
    .order_by(_clocks.c.kind, _clocks.c.policy_id, _owning_team)
)


async def clock_judgements(conn, start: datetime, end: datetime, team: str) -> list[ClockJudgement]:
    """Clocks judged in [start, end): breached when their BREACH fired in it, met when they
    stopped in it before a breach (cancelled clocks are never judged)."""
    rows = await conn.execute(_SLA, {"start": start, "end": end, "team": team})
    return [ClockJudgement(*row) for row in rows]


class Watermark(NamedTuple):
    disputes: int
    latest_update: datetime | None
    history_id: int | None  # the highest history entry: every change writes one

    def text(self) -> str:
        at = self.latest_update.isoformat().replace("+00:00", "Z") if self.latest_update else "-"
        return f"disputes={self.disputes}@{at};history={self.history_id or 0}"


_WATERMARK = select(
    select(func.count()).select_from(_disputes).scalar_subquery(),
    select(func.max(_disputes.c.updated_at)).scalar_subquery(),
    select(func.max(HistoryRow.__table__.c.id)).scalar_subquery(),
)


async def watermark(conn) -> Watermark:
    return Watermark(*(await conn.execute(_WATERMARK)).one())
