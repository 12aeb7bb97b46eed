"""RPC rate, errors and latency per method, as Prometheus scrapes them from a process: every way a
handler can end (reply, domain error, crash, abort, set code, stream) is counted once under the
status code the caller saw."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
import uuid

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.errors import NotFound
from common.rpc.server import ServiceProcess
from tests.support.rpc import running

DURATION = "rpc_server_duration_milliseconds"


async def _ok(request, context):
    return b"ok"


async def _not_found(request, context):
    raise NotFound("no such thing")


async def _crash(request, context):
    raise RuntimeError("boom")


async def _abort(request, context):
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "wrong state")


async def _set_code(request, context):
    context.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
    return b""


async def _stream(request, context):
    for item in (b"a", b"b"):
        yield item


HANDLERS = {
    "Ok": grpc.unary_unary_rpc_method_handler(_ok),
    "NotFound": grpc.unary_unary_rpc_method_handler(_not_found),
    "Crash": grpc.unary_unary_rpc_method_handler(_crash),
    "Abort": grpc.unary_unary_rpc_method_handler(_abort),
    "SetCode": grpc.unary_unary_rpc_method_handler(_set_code),
    "Stream": grpc.unary_stream_rpc_method_handler(_stream),
}


def probe_process(service: str) -> ServiceProcess:
    async def ready() -> bool:
        return True

    return ServiceProcess(
        name="probe",
        listen_addr="127.0.0.1:0",
        internal_secret="unused",
        register=lambda server: server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, HANDLERS),)
        ),
        service_names=(service,),
        ready_check=ready,
        require_identity=False,
    )


def scrape(port: int) -> dict[tuple[str, str], float]:
    """(method, status code) -> number of calls, for rpc.server.duration."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{DURATION}_count":
                key = (sample.labels["rpc_method"], sample.labels["rpc_grpc_status_code"])
                counts[(sample.labels["rpc_service"], *key)] = sample.value
    return counts


async def test_each_outcome_is_counted_under_the_callers_status_code(session_telemetry):
    service = f"probe{uuid.uuid4().hex[:8]}.v1.Probe"
    async with running(probe_process(service)) as address, grpc.aio.insecure_channel(address) as ch:
        for method, times in (("Ok", 3), ("NotFound", 1), ("Crash", 2), ("Abort", 1)):
            for _ in range(times):
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await ch.unary_unary(f"/{service}/{method}")(b"x")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await ch.unary_unary(f"/{service}/SetCode")(b"x")
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert [r async for r in ch.unary_stream(f"/{service}/Stream")(b"x")] == [b"a", b"b"]

    counts = await asyncio.to_thread(scrape, session_telemetry.metrics_port)
    mine = {k[1:]: v for k, v in counts.items() if k[0] == service}
    assert mine == {
        ("Ok", "0"): 3,
        ("NotFound", "5"): 1,
        ("Crash", "13"): 2,
        ("Abort", "9"): 1,
        ("SetCode", "8"): 1,
        ("Stream", "0"): 1,
    }


async def test_health_checks_are_not_counted(session_telemetry):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    service = f"probe{uuid.uuid4().hex[:8]}.v1.Probe"
    async with running(probe_process(service)) as address, grpc.aio.insecure_channel(address) as ch:
        await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
        await ch.unary_unary(f"/{service}/Ok")(b"x")
    counts = await asyncio.to_thread(scrape, session_telemetry.metrics_port)
    assert counts[(service, "Ok", "0")] == 1
    assert not [k for k in counts if k[0].startswith("grpc.health")]
