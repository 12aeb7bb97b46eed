"""Two identical creates racing on PostgreSQL: the idempotency key serialises them into one."""

from __future__ import annotations

import asyncio

from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.accounts.conftest import accounts_settings
from tests.support.rpc import channel, running


async def test_concurrent_retries_create_one_resource(postgres_backend, database_factory):
    url = database_factory.new_url(postgres_backend, "accounts")
    async with running(assemble(accounts_settings(url)).process) as address, channel(address) as ch:
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        request = pb.CreateCustomerRequest(
            customer=pb.Customer(display_name="Race"), request_id="same"
        )
        results = await asyncio.gather(*(stub.CreateCustomer(request) for _ in range(8)))
        assert len({r.name for r in results}) == 1
        listed = await stub.ListCustomers(pb.ListCustomersRequest())
        assert len(listed.customers) == 1
