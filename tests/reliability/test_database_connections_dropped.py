"""PostgreSQL drops every connection (what clients see when it restarts): calls in flight fail
with UNAVAILABLE, never INTERNAL; the service recovers by itself; a retry with the same request id
creates nothing twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import grpc
from sqlalchemy.engine import make_url

from common.clock import ManualClock
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.accounts.conftest import accounts_settings
from tests.support.databases import PG_ADMIN_DSN
from tests.support.rpc import channel, running


async def drop_connections(database: str) -> int:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        return len(rows)
    finally:
        await conn.close()


async def test_service_survives_dropped_connections_without_doubling(
    postgres_backend, database_factory
):
    url = database_factory.new_url(postgres_backend, "accounts")
    database = make_url(url).database
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with (
        running(assemble(accounts_settings(url), clock=clock).process) as address,
        channel(address) as ch,
    ):
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        request = pb.CreateCustomerRequest(
            customer=pb.Customer(display_name="Acme"), request_id="k1"
        )

        async def create_until_done():
            for _ in range(50):
                try:
                    return await stub.CreateCustomer(request)
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
                    await asyncio.sleep(0.1)
            raise AssertionError("never recovered")

        await stub.ListCustomers(pb.ListCustomersRequest())  # the pool holds live connections now
        assert await drop_connections(database) >= 1
        first = await create_until_done()
        assert await drop_connections(database) >= 0
        again = await create_until_done()
        assert first.name == again.name
        listed = await stub.ListCustomers(pb.ListCustomersRequest())
        assert [c.name for c in listed.customers] == [first.name]


async def test_unreachable_database_is_unavailable_and_not_serving():
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    url = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"  # nothing listens on port 9
    settings = accounts_settings(url)
    async with running(assemble(settings).process) as address, channel(address) as ch:
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        with_name = pb.GetCustomerRequest(name="customers/" + "0" * 32)
        try:
            await stub.GetCustomer(with_name)
            raise AssertionError("expected UNAVAILABLE")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert "Traceback" not in error.details()
        health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
