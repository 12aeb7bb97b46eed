"""The disputes gauges, read from the database by a `metrics.poll` worker (every 15 s by default):
open cases by status and team, and the sweeper's lag. Every replica reads the same shared tables,
so SRE aggregates them with `max` (docs/sre.md)."""

from __future__ import annotations

from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import func, select

from common.metrics import CASES_OPEN, SWEEPER_LAG, Reading
from services.disputes.data.models import DisputeRow, MilestoneRow, RootCauseRow
from services.disputes.domain.status import ACTIVE
from services.disputes.service.context import DisputesContext

GAUGES = (CASES_OPEN, SWEEPER_LAG)
OPEN_STATUSES = tuple(sorted(s.value for s in ACTIVE))


async def read(ctx: DisputesContext) -> dict[str, list[Reading]]:
    """One short transaction: a GROUP BY on the status index and a MIN on the partial index of
    unfired milestones."""
    now = ctx.clock.now()
    # A poll is not an action anyone follows: a root trace every 15 s per replica would be noise.
    with suppress_instrumentation():
        async with ctx.db.transaction() as session:
            team = func.coalesce(RootCauseRow.owning_team, "")
            groups = await session.execute(
                select(DisputeRow.status, team, func.count())
                .outerjoin(RootCauseRow, RootCauseRow.code == DisputeRow.root_cause_code)
                .where(DisputeRow.status.in_(OPEN_STATUSES))
                .group_by(DisputeRow.status, team)
            )
            oldest_due = await session.scalar(
                select(func.min(MilestoneRow.due_at)).where(
                    MilestoneRow.fired_at.is_(None), MilestoneRow.due_at <= now
                )
            )
    counts = {(status, ""): 0 for status in OPEN_STATUSES}  # 0 rather than no series
    counts.update({(status, owner): n for status, owner, n in groups.all()})
    lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else 0.0
    return {
        CASES_OPEN: [(n, {"status": s, "team": t}) for (s, t), n in sorted(counts.items())],
        SWEEPER_LAG: [(lag, {})],
    }
