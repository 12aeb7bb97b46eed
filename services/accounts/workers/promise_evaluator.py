"""The promise evaluator: judges promises at their deadline, exactly once, with any number of
replicas running it (the pass: service/promise_judging.py). It sleeps until the earliest open
deadline (at most `max_sleep_s`) or until a commit here takes or pays a promise. A restart or an
outage leaves due promises simply due: the first pass catches them up."""

from __future__ import annotations

import asyncio

from common.metrics import SettleMetrics
from common.workers import Wake, run_worker
from services.accounts.domain.promises import PromiseState
from services.accounts.service import promise_judging
from services.accounts.service.context import AccountsContext
from services.accounts.service.promise_judging import Evaluation


class PromiseEvaluator:
    def __init__(
        self,
        ctx: AccountsContext,
        metrics: SettleMetrics,
        *,
        batch: int = 500,
        max_sleep_s: float = 5.0,
    ):
        self.ctx = ctx
        self.metrics = metrics
        self.batch = batch
        self.max_sleep_s = max_sleep_s
        self.wake = Wake()  # for AfterCommit.listen

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("promise evaluator", self._pass, stop, self.wake, retry_s=self.max_sleep_s)

    async def _pass(self) -> float:
        result = await self.evaluate_once()
        if sum(result.judged.values()) >= self.batch:
            return 0.0
        return await promise_judging.next_pass_in(self.ctx, self.max_sleep_s)

    async def evaluate_once(self) -> Evaluation:
        result = await promise_judging.evaluate_once(self.ctx, self.batch)
        self.metrics.promises_broken(result.judged.get(PromiseState.BROKEN.value, 0))
        return result
