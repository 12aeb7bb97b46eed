"""The accounts gauges, read by a `metrics.poll` worker (every 60 s by default, as ranking every
assigned customer is a worklist read over the whole portfolio): promises by state, and each
collector's worklist size and completion today. Every replica reads the same tables, so SRE
aggregates them with `max` (docs/sre.md)."""

from __future__ import annotations

from opentelemetry.instrumentation.utils import suppress_instrumentation

from common.metrics import PROMISES, WORKLIST_COMPLETION, WORKLIST_SIZE, Reading
from services.accounts.data import collections_reads
from services.accounts.domain.promises import PromiseState
from services.accounts.service import worklist
from services.accounts.service.context import AccountsContext

GAUGES = (PROMISES, WORKLIST_SIZE, WORKLIST_COMPLETION)
POLL_S = 60.0


async def read(ctx: AccountsContext) -> dict[str, list[Reading]]:
    # A poll is not an action anyone follows: no root trace per poll and replica.
    with suppress_instrumentation():
        async with ctx.db.reading_connection() as conn:
            by_state = await collections_reads.promises_by_state(conn)
        days = await worklist.collectors_day(ctx)
    counts = {state.value: 0 for state in PromiseState}  # 0 rather than no series
    counts.update(by_state)
    collectors = sorted(days)
    return {
        PROMISES: [(n, {"state": s}) for s, n in sorted(counts.items())],
        WORKLIST_SIZE: [(days[c].size, {"collector": c}) for c in collectors],
        WORKLIST_COMPLETION: [(days[c].completion, {"collector": c}) for c in collectors],
    }
