"""The Legal notifier: reports every posting on an account with Legal (service/legal_cases.py),
woken by commits here, otherwise every `every_s`."""

from __future__ import annotations

import asyncio

from common.workers import Wake, run_worker
from services.accounts.service import legal_cases
from services.accounts.service.context import AccountsContext


class LegalNotifier:
    def __init__(self, ctx: AccountsContext, *, batch: int = 200, every_s: float = 30.0):
        self.ctx, self.batch, self.every_s = ctx, batch, every_s
        self.wake = Wake()  # for AfterCommit.listen

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("legal notifier", self._pass, stop, self.wake, retry_s=self.every_s)

    async def _pass(self) -> float:
        return 0.0 if await self.report_once() >= self.batch else self.every_s

    async def report_once(self) -> int:
        return await legal_cases.report_postings(self.ctx, self.batch)
