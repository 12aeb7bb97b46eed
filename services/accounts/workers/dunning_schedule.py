"""The daily dunning run: each pass evaluates the customers not yet evaluated today (a cheap no-op
once they all are), so a restart, a late start or a second replica changes nothing."""

from __future__ import annotations

import asyncio

from common.workers import Wake, run_worker
from services.accounts.service import dunning_run
from services.accounts.service.context import AccountsContext


class DunningSchedule:
    def __init__(self, ctx: AccountsContext, *, every_s: float = 900.0):
        self.ctx, self.every_s = ctx, every_s
        self.wake = Wake()

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("dunning run", self._pass, stop, self.wake, retry_s=self.every_s)

    async def _pass(self) -> float:
        await dunning_run.run_dunning(self.ctx, self.ctx.clock.today())
        return self.every_s
