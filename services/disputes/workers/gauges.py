"""The disputes gauges, read from the database by a `metrics.poll` worker (every 15 s by default):
open cases by status and team, and the sweeper's lag. Every replica reads the same shared tables,
so SRE aggregates them with `max` (docs/sre.md)."""

from __future__ import annotations

from opentelemetry.instrumentation.utils import suppress_instrumentation

from common.metrics import CASES_OPEN, SWEEPER_LAG, Reading
from services.disputes.data import repository as repo
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
            groups = await repo.open_cases_by_team(session, OPEN_STATUSES)
            oldest_due = await repo.oldest_unfired_due(session, now)
    counts = {(status, ""): 0 for status in OPEN_STATUSES}  # 0 rather than no series
    counts.update(groups)
    lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else 0.0
    return {
        CASES_OPEN: [(n, {"status": s, "team": t}) for (s, t), n in sorted(counts.items())],
        SWEEPER_LAG: [(lag, {})],
    }
