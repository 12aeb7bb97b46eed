"""A run over many customers in small batches, on SQLite and PostgreSQL: its lanes (batches
evaluated side by side on PostgreSQL) and a second run started beside it (another replica) share
the customers, so each is evaluated once and chased by one notice; a re-evaluation claims each
customer once more and sends nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

from sqlalchemy import select

from services.accounts.data.dunning_models import DunningDecisionRow, NoticeRow
from services.accounts.service.dunning_run import run_dunning
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.dunning_support import eur

CUSTOMERS = 13  # not a multiple of the batch: the last batch is short


async def _overdue_customer(dunning, n: int) -> str:
    customer = await dunning.customer(f"C-{n}")
    await dunning.stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            invoice=pb.Invoice(
                customer=customer.name, external_number=f"INV-{n}", invoice_date="2025-12-31",
                due_date="2026-01-30", amount=eur("1000.00"),
            )
        )
    )  # fmt: skip
    return customer.name.removeprefix("customers/")


async def _rows(ctx, column) -> Counter:
    async with ctx.db.reading_connection() as conn:
        return Counter((await conn.execute(select(column))).scalars())


async def test_lanes_and_replicas_evaluate_each_customer_once(dunning):
    ids = [await _overdue_customer(dunning, n) for n in range(CUSTOMERS)]
    ctx = dataclasses.replace(dunning.parts.ctx, dunning_lanes=3)
    day = dunning.clock.today()

    first, second = await asyncio.gather(
        run_dunning(ctx, day, batch=2), run_dunning(ctx, day, batch=2)
    )
    assert first.evaluated + second.evaluated == CUSTOMERS
    assert first.notices + second.notices == CUSTOMERS
    assert await _rows(ctx, NoticeRow.customer_id) == Counter(ids)  # one notice each
    assert await _rows(ctx, DunningDecisionRow.customer_id) == Counter(ids)

    again = await run_dunning(ctx, day, batch=2, reevaluate=True)
    assert again.evaluated == CUSTOMERS and again.notices == 0  # each claimed once more
    assert again.skipped == Counter(NO_NEW_LEVEL=CUSTOMERS)
    assert await _rows(ctx, NoticeRow.customer_id) == Counter(ids)
    assert await _rows(ctx, DunningDecisionRow.customer_id) == Counter(ids)  # replaced
    assert await run_dunning(ctx, day, batch=2) == type(again)(day)  # nothing left to claim
