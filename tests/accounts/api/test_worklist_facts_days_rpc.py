"""The worklist's facts on later days without a write: what falls overdue and which promise is
due are derived at read time from stored dates, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.accounts.data import worklist_reads
from services.accounts.domain.worklist import CustomerFacts
from tests.accounts.api.facts_support import assert_facts_agree


async def test_days_passing_without_a_write_move_what_is_overdue(desk):
    """Recomputed on 2 March; read on later days: the invoice due 10 March becomes overdue, the
    promise of 5 March is due that day, and neither is stored as of the write."""
    customer = await desk.customer()
    await desk.invoice(customer, "INV-OLD", amount="100.00", due="2026-02-01")
    future = await desk.invoice(customer, "INV-NEW", amount="50.00", due="2026-03-10")
    await desk.promise(customer, future, amount="20.00", on="2026-03-05")
    async with desk.parts.ctx.db.reading_connection() as conn:

        async def on(day: str) -> CustomerFacts:
            (facts,) = await worklist_reads.facts(conn, "all", "", date.fromisoformat(day))
            return facts

        assert ((await on("2026-03-02")).overdue_minor, (await on("2026-03-11")).overdue_minor) == (
            10_000,
            15_000,
        )
        assert (await on("2026-03-10")).overdue_minor == 10_000  # due that day: not yet overdue
        assert [(await on(d)).promise_due_today for d in ("2026-03-04", "2026-03-05")] == [
            False,
            True,
        ]
        assert (await on("2026-03-11")).oldest_due == date(2026, 2, 1)
    desk.clock.set(datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    await assert_facts_agree(desk)
