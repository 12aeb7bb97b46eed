"""RetryNotice: a FAILED notice queued again once its cause is fixed (a contact's address, the
mail server). Attempts start over; who asked, when, and the error it failed with stay in
`last_error` until the next attempt answers, and in the log."""

from __future__ import annotations

import structlog

from common.actor import current_actor
from common.errors import FailedPrecondition
from services.accounts.data import dunning_reads, notice_queue
from services.accounts.data import repository as repo
from services.accounts.data.dunning_reads import NoticeRead
from services.accounts.data.dunning_rows import FAILED
from services.accounts.service.collector_scope import check_may_work
from services.accounts.service.context import AccountsContext
from services.accounts.service.dunning_run import DUNNING_RUN

log = structlog.get_logger("settle.accounts.notices")


async def retry_notice(ctx: AccountsContext, notice_id: str) -> NoticeRead:
    actor, now = current_actor(), ctx.clock.now()
    async with ctx.db.transaction() as session:
        customer_id, state, error = await notice_queue.lock(session, notice_id)
        check_may_work(actor, await repo.assignment(session, customer_id))
        if state != FAILED:
            raise FailedPrecondition(
                f"notice {notice_id} is {state}: only a FAILED notice is retried",
                reason="NOTICE_NOT_FAILED",
            )
        record = f"retry asked by {actor.subject} at {now.isoformat()} after: {error}"
        await notice_queue.requeue(session, notice_id, now, record)
    log.info("notice retry queued", notice=notice_id, by=actor.subject)
    ctx.after_commit.changed(DUNNING_RUN)  # the sender wakes for queued notices
    async with ctx.db.reading_connection() as conn:
        return await dunning_reads.notice(conn, notice_id)
