"""Disputes tests run a real accounts server, a real disputes server and a fake escalation
service; the disputes background workers are driven by hand (relay, sweeper) on a ManualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from common.clock import ManualClock
from common.settings import Settings
from common.telemetry import Telemetry
from services.accounts.server import assemble as assemble_accounts
from services.disputes.data.models import OutboxEventRow
from services.disputes.server import DisputesParts, assemble
from settle.accounts.v1 import accounts_pb2_grpc
from settle.disputes.v1 import disputes_pb2_grpc
from tests.accounts.conftest import accounts_settings
from tests.disputes.support import FakeEscalation, fake_escalation
from tests.support.rpc import TEST_SECRET, channel, running

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def disputes_settings(
    url: str, accounts_addr: str, escalation_addr: str, *, workers: bool
) -> Settings:
    return Settings(
        service="disputes",
        database_url=url,
        listen_addr="127.0.0.1:0",
        development=True,
        internal_secret=TEST_SECRET,
        log_level="WARNING",
        downstream={"accounts": accounts_addr, "escalation": escalation_addr},
        workers_enabled=workers,
    )


@dataclass
class System:
    disputes: disputes_pb2_grpc.DisputesServiceStub
    accounts: accounts_pb2_grpc.AccountsServiceStub
    clock: ManualClock
    assembly: DisputesParts
    escalation: FakeEscalation
    delivered_total: int = 0

    async def relay(self, rounds: int = 5) -> int:
        """Delivers every pending outbox event; returns how many were delivered. The relay sends a
        batch concurrently, so an event may overtake the one it depends on (a release before its
        hold) and be retried after a backoff: here the retry is made due at once."""
        delivered = 0
        for _ in range(rounds):
            while await self.assembly.relay.relay_once():
                pass
            pending = OutboxEventRow.delivered_at.is_(None) & OutboxEventRow.dead_at.is_(None)
            async with self.assembly.ctx.db.transaction() as session:
                delivered = await session.scalar(
                    select(func.count()).where(OutboxEventRow.delivered_at.is_not(None))
                )
                waiting = await session.scalar(select(func.count()).where(pending))
                if not waiting:
                    break
                await session.execute(
                    update(OutboxEventRow).where(pending).values(available_at=self.clock.now())
                )
        new, self.delivered_total = delivered - self.delivered_total, delivered
        return new

    async def sweep(self) -> int:
        return (await self.assembly.sweeper.sweep_once()).fired

    async def outbox_count(self, **where) -> int:
        async with self.assembly.ctx.db.transaction() as session:
            stmt = select(func.count()).select_from(OutboxEventRow)
            for key, value in where.items():
                stmt = stmt.where(getattr(OutboxEventRow, key) == value)
            return await session.scalar(stmt)


@asynccontextmanager
async def start_system(
    backend: str, database_factory, telemetry: Telemetry | None = None
) -> AsyncIterator[System]:
    accounts_url = database_factory.new_url(backend, "accounts")
    disputes_url = database_factory.new_url(backend, "disputes")
    clock = ManualClock(MONDAY_9)
    async with (
        fake_escalation() as (escalation, escalation_addr),
        running(
            assemble_accounts(accounts_settings(accounts_url), clock=clock).process
        ) as accounts_addr,
    ):
        asm = assemble(
            disputes_settings(disputes_url, accounts_addr, escalation_addr, workers=False),
            telemetry,
            clock=clock,
        )
        async with (
            running(asm.process) as address,
            channel(address) as ch,
            channel(accounts_addr) as ach,
        ):
            yield System(
                disputes_pb2_grpc.DisputesServiceStub(ch),
                accounts_pb2_grpc.AccountsServiceStub(ach),
                clock,
                asm,
                escalation,
            )


@pytest.fixture
async def system(backend, database_factory):
    async with start_system(backend, database_factory) as system:
        yield system
