"""Real gRPC servers on 127.0.0.1:0 and signed client channels for tests."""

from __future__ import annotations

from contextlib import asynccontextmanager

import grpc
import pytest

from common import actor as actors
from common.rpc.client import open_channel
from common.rpc.server import RunningServer, ServiceProcess
from common.rpc.status import details_of

TEST_SECRET = "test-internal-secret"


@asynccontextmanager
async def running(process: ServiceProcess):
    server = RunningServer(process)
    port = await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop()


@asynccontextmanager
async def channel(address: str, service: str = "tests"):
    ch = open_channel(address, secret=TEST_SECRET, service=service)
    try:
        yield ch
    finally:
        await ch.close()


def as_actor(subject: str, *roles: str, team: str = ""):
    """Context manager-like token: calls made while set carry this identity."""
    return actors.set_actor(actors.Actor(subject, tuple(roles), team))


async def expect_error(
    awaitable,
    code: grpc.StatusCode,
    *,
    field: str | None = None,
    fields=(),
    reason: str | None = None,
):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    error = info.value
    assert error.code() == code, f"expected {code}, got {error.code()}: {error.details()}"
    violations, found_reason = details_of(error)
    found = [v.field for v in violations]
    for expected in (*fields_expected(field, fields),):
        assert expected in found, f"no violation on {expected!r}: {found}"
    if reason is not None:
        assert found_reason == reason, f"reason {found_reason!r} != {reason!r}"
    return error


def fields_expected(field, fields) -> list[str]:
    return ([field] if field else []) + list(fields)
