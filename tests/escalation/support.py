"""Starting the escalation service for tests, and request builders."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.clock import ManualClock
from common.outbox import RelayPolicy
from common.settings import Settings
from services.escalation.config import EscalationConfig
from services.escalation.domain.webhooks import RetryPolicy
from services.escalation.server import EscalationParts, assemble
from services.escalation.workers.webhooks import DispatchPolicy
from settle.escalation.v1 import escalation_pb2 as pb
from settle.escalation.v1 import escalation_pb2_grpc
from tests.support.rpc import TEST_SECRET, channel, running

# Monday 10:00 in Berlin, where the seeded team calendars work 09:00-17:00.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOWHERE = "127.0.0.1:1"  # nothing listens there
LOOPBACK = "127.0.0.1/32"
FAST = EscalationConfig(
    sweep_poll_s=0.05,
    watch_poll_s=0.2,
    dispatch=DispatchPolicy(
        retry=RetryPolicy(
            max_attempts=5, base=timedelta(seconds=0.1), ceiling=timedelta(seconds=1)
        ),
        timeout_s=0.5,
        poll_s=0.05,
        shutdown_grace_s=0.1,
    ),
    relay=RelayPolicy(poll_s=0.05, base_backoff_s=0.05, max_backoff_s=0.2),
    webhook_allow=(LOOPBACK,),  # the tests' webhook receivers listen on 127.0.0.1
)


@dataclass
class EscalationHarness:
    stub: escalation_pb2_grpc.EscalationServiceStub
    clock: ManualClock
    address: str
    database_url: str
    parts: EscalationParts


def escalation_settings(
    database_url: str,
    *,
    workers: bool = False,
    listen: str = "127.0.0.1:0",
    disputes: str = NOWHERE,
) -> Settings:
    return Settings(
        service="escalation",
        database_url=database_url,
        listen_addr=listen,
        development=True,
        internal_secret=TEST_SECRET,
        log_level="WARNING",
        downstream={"disputes": disputes},
        workers_enabled=workers,
    )


@asynccontextmanager
async def start_escalation(
    database_url: str,
    clock,
    *,
    workers: bool = False,
    listen: str = "127.0.0.1:0",
    disputes: str = NOWHERE,
    config: EscalationConfig = FAST,
):
    settings = escalation_settings(database_url, workers=workers, listen=listen, disputes=disputes)
    parts = assemble(settings, clock=clock, config=config)
    async with running(parts.process) as address, channel(address) as ch:
        yield EscalationHarness(
            escalation_pb2_grpc.EscalationServiceStub(ch), clock, address, database_url, parts
        )


def raise_request(subject: str = "disputes/" + "a" * 32, **overrides) -> pb.RaiseEscalationRequest:
    fields = dict(
        subject=subject,
        reason_code="PRICING_AUTHORITY",
        summary="Customer disputes the price",
        raised_by="user:alice",
    )
    fields.update(overrides)
    return pb.RaiseEscalationRequest(**fields)
