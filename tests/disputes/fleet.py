"""Many cases made through the real intake use case, without gRPC: for sweeper concurrency tests
and the throughput measurement (python -m bench.measure.disputes_sweeper)."""

from __future__ import annotations

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore, RequestKey
from common.ids import new_id
from common.outbox import Outbox
from services.disputes.data.models import IdempotencyKeyRow, OutboxEventRow
from services.disputes.domain.intake import CustomerFacts, InvoiceFacts, ItemRequest
from services.disputes.domain.policies import Priority
from services.disputes.service.context import DisputesContext
from services.disputes.service.intake import NewDispute, create_dispute

CUSTOMER = "c" * 32


class FakeAccounts:
    """Every invoice exists, belongs to CUSTOMER and has 1,000.00 EUR open."""

    async def customer(self, customer_id: str) -> CustomerFacts:
        return CustomerFacts(customer_id, "MEDIUM")

    async def invoice(self, invoice_id: str, field: str) -> InvoiceFacts:
        return InvoiceFacts(
            invoice_id, CUSTOMER, f"N-{invoice_id[:8]}", "EUR", 100_000, 0, {1: 100_000}
        )


def context(url: str, clock: Clock, pool_size: int = 5) -> DisputesContext:
    return DisputesContext(
        db=Database.from_url(url, pool_size=pool_size),
        clock=clock,
        idempotency=IdempotencyStore(IdempotencyKeyRow, clock),
        outbox=Outbox(OutboxEventRow, clock),
        accounts=FakeAccounts(),
    )


async def open_cases(ctx: DisputesContext, n: int) -> list[str]:
    names = []
    for _ in range(n):
        data = NewDispute(
            customer_id=CUSTOMER,
            title="fleet",
            reason_code="PRICING",
            priority=Priority.MEDIUM,
            items=(ItemRequest(new_id()),),
        )
        view = await create_dispute(ctx, data, RequestKey("", ""))
        names.append(view.case.id)
    return names
