"""The SLA sweeper: fires due milestones (warnings, breaches) at their due time, exactly once,
with any number of replicas running it (the pass itself: service/sla_firing.py).

Between passes the worker sleeps until the earliest due time, at most `max_sleep_s`, or until
this process commits a change to a case (AfterCommit wakes it). Rows left due by a restart or an
outage are simply due: the first pass catches them up.
"""

from __future__ import annotations

import asyncio

from common.workers import Wake, run_worker
from services.disputes.service import sla_firing
from services.disputes.service.context import DisputesContext
from services.disputes.service.sla_firing import SweepResult


class Sweeper:
    def __init__(self, ctx: DisputesContext, *, batch: int = 200, max_sleep_s: float = 1.0):
        self.ctx = ctx
        self.batch = batch
        self.max_sleep_s = max_sleep_s
        self.wake = Wake()  # for AfterCommit.listen

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("sla sweeper", self._pass, stop, self.wake, retry_s=self.max_sleep_s)

    async def _pass(self) -> float:
        """One pass; the seconds until the next one."""
        result = await self.sweep_once()
        if result.failed:
            return self.max_sleep_s
        if result.fired:
            return 0.0
        return await sla_firing.next_pass_in(self.ctx, result.skipped, self.max_sleep_s)

    async def sweep_once(self) -> SweepResult:
        return await sla_firing.sweep_once(self.ctx, self.batch)
