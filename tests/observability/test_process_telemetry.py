"""A real `python -m services.accounts` process, configured only by environment variables as in
production, with its OTLP exporters pointed at the test's receiver and ratio-0 sampling:
- a request with no trace context starts a trace that is sampled out: nothing is exported;
- a request from an unsampled upstream is not exported either;
- a request from a sampled upstream is exported: server and database spans under the caller's span;
- every request is counted on the Prometheus endpoint and in the OTLP metrics;
- SIGTERM stops the process cleanly after exporting what it buffered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.request
import uuid

import grpc
import pytest
from opentelemetry import context as otel_context
from prometheus_client.parser import text_string_to_metric_families

from common import actor as actors
from common import tracing
from common.settings import PROJECT_ROOT
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.observability.test_accounts_traces import CONTACT_EMAIL, CONTACT_NAME, customer
from tests.support.pii import personal_data_in
from tests.support.rpc import TEST_SECRET, channel
from tools.run_all import wait_serving

pytestmark = pytest.mark.e2e
UNSAMPLED_UPSTREAM = "00-11111111111111111111111111111111-2222222222222222-00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ACCOUNTS_"))}
    return {**env, "SETTLE_INTERNAL_SECRET": TEST_SECRET, "LOG_FORMAT": "json", **settings}


def scrape_calls(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        s.labels["rpc_method"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "rpc_server_duration_milliseconds_count"
    }


async def test_real_process_samples_by_environment_and_exports_what_it_keeps(
    otlp, session_telemetry, database_factory
):
    service = f"settle-accounts-{uuid.uuid4().hex[:6]}"
    address, metrics_port = f"127.0.0.1:{free_port()}", free_port()
    env = process_env(
        ACCOUNTS_ADDR=address,
        ACCOUNTS_DATABASE_URL=database_factory.new_url("sqlite", "accounts"),
        ACCOUNTS_METRICS_PORT=str(metrics_port),
        OTEL_SERVICE_NAME=service,
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint,
        OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="0",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_METRIC_EXPORT_INTERVAL="200",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.accounts", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert await wait_serving(address, timeout_s=30), "accounts did not become SERVING"
        # No trace context at all (a plain channel): the process's own sampler decides.
        signed = actors.sign(actors.Actor("user:tester", ("admin",)), TEST_SECRET)
        async with grpc.aio.insecure_channel(address) as plain:
            stub = accounts_pb2_grpc.AccountsServiceStub(plain)
            created = await stub.CreateCustomer(
                pb.CreateCustomerRequest(customer=customer()), metadata=signed
            )
        async with channel(address) as ch:
            stub = accounts_pb2_grpc.AccountsServiceStub(ch)
            token = otel_context.attach(tracing.context_from(UNSAMPLED_UPSTREAM))
            try:
                await stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
            finally:
                otel_context.detach(token)
            with session_telemetry.tracer("tests").start_as_current_span("sampled caller") as root:
                await stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
        calls = await asyncio.to_thread(scrape_calls, metrics_port)
        assert (calls.get("CreateCustomer"), calls.get("GetCustomer")) == (1, 2)
        await otlp.until(
            lambda r: any(
                p.metric == "rpc.server.duration" for p in r.points if p.service == service
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    logs = (await proc.stderr.read()).decode()

    trace_id = f"{root.get_span_context().trace_id:032x}"
    session_telemetry.flush()
    spans = await otlp.until(lambda r: r.spans_for(service))
    assert {s.trace_id for s in spans} == {trace_id}, "sampled-out work was exported"
    (server,) = [s for s in spans if s.kind == "server"]
    assert server.attributes["rpc.method"] == "GetCustomer"
    caller = next(s for s in otlp.trace(trace_id) if s.span_id == server.parent_span_id)
    assert caller.service == "settle-accounts" and caller.kind == "client"  # the test process
    db_spans = [s for s in spans if "db.system" in s.attributes]
    assert db_spans and all(s.parent_span_id == server.span_id for s in db_spans)
    assert personal_data_in(spans, known=[CONTACT_NAME, CONTACT_EMAIL]) == []

    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {"listening", "stopped"} <= {line["event"] for line in lines}
    assert CONTACT_EMAIL not in logs and CONTACT_NAME not in logs
