"""What every disputes use case needs, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry import trace

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.metrics import SettleMetrics
from common.outbox import Outbox
from common.reference import ReferenceData
from common.workers import AfterCommit
from services.disputes.domain.intake import CustomerFacts, InvoiceFacts
from services.disputes.service.calendars import CalendarBook


class AccountsPort(Protocol):
    """What intake asks the accounts service (over gRPC: outbound/accounts_client.py)."""

    async def customer(self, customer_id: str) -> CustomerFacts: ...

    async def invoice(self, invoice_id: str, field: str) -> InvoiceFacts: ...


@dataclass
class DisputesContext:
    db: Database
    clock: Clock
    idempotency: IdempotencyStore
    outbox: Outbox
    accounts: AccountsPort
    calendars: CalendarBook = field(default_factory=CalendarBook)
    reference: ReferenceData = field(default_factory=ReferenceData)  # reasons, SLA policies
    # From the process's Telemetry (server.py); without one (unit tests, tools) the global
    # tracer (a no-op unless installed) and metrics that record nothing.
    tracer: trace.Tracer = field(default_factory=lambda: trace.get_tracer("settle.disputes"))
    metrics: SettleMetrics = field(default_factory=SettleMetrics.noop)
    # Told after a commit that wrote outbox events or clock milestones: wakes the relay and the
    # sweeper of this process at once instead of at their next poll.
    after_commit: AfterCommit = field(default_factory=AfterCommit)

    def reference_changed(self) -> None:
        """After a change to reason codes, SLA policies or calendars commits: the next new case
        reads them afresh (other replicas within REFERENCE_TTL_S)."""
        self.reference.forget()
        self.calendars.forget()

    def changed(self) -> None:
        self.after_commit.changed()
