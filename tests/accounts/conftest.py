from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from common.clock import ManualClock
from common.settings import Settings
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2_grpc
from tests.support.rpc import TEST_SECRET, channel, running


@dataclass
class AccountsHarness:
    stub: accounts_pb2_grpc.AccountsServiceStub
    clock: ManualClock
    address: str
    database_url: str


def accounts_settings(database_url: str) -> Settings:
    return Settings(
        service="accounts",
        database_url=database_url,
        listen_addr="127.0.0.1:0",
        development=True,
        internal_secret=TEST_SECRET,
        log_level="WARNING",
    )


@pytest.fixture
async def accounts(backend, database_factory):
    url = database_factory.new_url(backend, "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with (
        running(assemble(accounts_settings(url), clock=clock).process) as address,
        channel(address) as ch,
    ):
        yield AccountsHarness(accounts_pb2_grpc.AccountsServiceStub(ch), clock, address, url)
