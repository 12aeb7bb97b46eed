"""The notice sender: delivers queued dunning notices (service/notice_delivery.py), woken by a
dunning run's commit, otherwise at the next notice's retry time (at most `max_sleep_s`)."""

from __future__ import annotations

import asyncio

from common.workers import Wake, run_worker
from services.accounts.service import notice_delivery
from services.accounts.service.context import AccountsContext
from services.accounts.service.notice_delivery import NoticeDelivery


class NoticeSender:
    def __init__(
        self, ctx: AccountsContext, delivery: NoticeDelivery, *, max_sleep_s: float = 30.0
    ):
        self.ctx, self.delivery, self.max_sleep_s = ctx, delivery, max_sleep_s
        self.wake = Wake()  # for AfterCommit.listen

    async def run(self, stop: asyncio.Event) -> None:
        await run_worker("notice sender", self._pass, stop, self.wake, retry_s=self.max_sleep_s)

    async def _pass(self) -> float:
        if await self.send_once() >= self.delivery.batch:
            return 0.0
        return await notice_delivery.next_pass_in(self.ctx, self.max_sleep_s)

    async def send_once(self) -> int:
        return await notice_delivery.deliver_due(self.ctx, self.delivery)
