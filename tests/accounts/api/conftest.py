"""Fixtures shared by the accounts RPC tests, defined in their support modules."""

import pytest

from settle.accounts.v1 import reports_pb2_grpc
from tests.accounts.api.collections_support import desk  # noqa: F401
from tests.accounts.api.dunning_support import dunning  # noqa: F401
from tests.support.rpc import channel


@pytest.fixture
async def reports(accounts):
    """The accounts reports service's stub."""
    async with channel(accounts.address) as ch:
        yield reports_pb2_grpc.AccountsReportsServiceStub(ch)
