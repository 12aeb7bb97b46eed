"""From a case's opening to its breach's escalation, in real processes (`python -m
services.accounts`, `.disputes`, `.escalation`) configured by environment variables as deployed,
exporting over OTLP to the test's receiver, with a 1-second resolve policy on the system clock.

Checked from the received spans: the opening is one trace across the caller, disputes (with its
clock events) and accounts; the breach is its own span (ERROR) linking to that trace; the escalation
event's delivery and escalation's work on it are inside the breach's trace; no personal data.
From the disputes process's Prometheus endpoint: the breach counted with its labels. From
GetDisputeTrace: the origin and breach trace ids."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import urllib.request
import uuid
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from opentelemetry import context as otel_context
from prometheus_client.parser import text_string_to_metric_families

from common import tracing
from common.settings import PROJECT_ROOT
from settle.accounts.v1 import accounts_pb2_grpc
from settle.disputes.v1 import disputes_pb2 as pb
from settle.disputes.v1 import disputes_pb2_grpc
from tests.disputes import support as s
from tests.observability.conftest import FAST_EXPORT
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.pii import personal_data_in
from tests.support.rpc import TEST_SECRET, channel
from tools.run_all import wait_serving

pytestmark = pytest.mark.e2e
SERVICES = ("accounts", "disputes", "escalation")
NOTE = "Ana Buch (ana.buch@acme.example, +49 30 1234567) says item 3 is wrong"
TARGET_S = 1
BREACH_TREE = {
    ("settle-disputes", "settle.sla.breach", "internal"),
    ("settle-disputes", "outbox deliver RaiseEscalation", "producer"),
    # Sent with the other pending raises in one RaiseEscalations call, made in its first event's
    # delivery span: the batch's span is in that breach's trace, and links every item's.
    ("settle-escalation", "RaiseEscalations batch", "consumer"),
}
# The developer's shell must not configure these processes (workers off, another database...).
INHERITED_NOT = ("OTEL_", "SETTLE_", "METRICS_", *(f"{n.upper()}_" for n in (*SERVICES, "gateway")))
LABELS = {"clock", "policy", "reason", "team", "status", "destination", "outcome"}  # not otel_*


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def processes(env: dict[str, str], logs):
    """The services, stopped together (SIGTERM; each exports what it buffered first)."""
    procs = []
    try:
        for name in SERVICES:
            with (logs / f"{name}.log").open("wb") as log:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", f"services.{name}", cwd=PROJECT_ROOT, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=log,
                )  # fmt: skip
            procs.append(proc)
        yield procs
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), 20)
        except TimeoutError:
            for proc in (p for p in procs if p.returncode is None):
                proc.kill()
            raise


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (sample.name, tuple(sorted(kv for kv in sample.labels.items() if kv[0] in LABELS))): v
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if (v := sample.value) is not None
    }


def tree(spans: list[ReceivedSpan]) -> list[str]:
    """The trace as indented `service: span` lines (for the failure message and -s runs)."""
    ids = {x.span_id for x in spans}
    lines = []

    def walk(parent: str | None, depth: int) -> None:
        for x in sorted(spans, key=lambda x: x.start_ns):
            if (x.parent_span_id if x.parent_span_id in ids else None) == parent:
                lines.append(f"{'  ' * depth}{x.service}: {x.name} [{x.kind}]")
                walk(x.span_id, depth + 1)

    walk(None, 0)
    return lines


async def test_open_breach_and_escalation_form_linked_traces(database_factory, tmp_path):
    addresses = {name: f"127.0.0.1:{free_port()}" for name in SERVICES}
    metrics_port = free_port()
    with OtlpReceiver() as otlp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_NOT)}
        env.update(
            SETTLE_ENV="development",
            SETTLE_INTERNAL_SECRET=TEST_SECRET,
            LOG_FORMAT="json",
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint,
            OTEL_METRICS_EXPORTER="none",  # the test reads the Prometheus endpoint
            DISPUTES_METRICS_PORT=str(metrics_port),
            **FAST_EXPORT,
        )
        for name in SERVICES:
            env[f"{name.upper()}_ADDR"] = addresses[name]
            env[f"{name.upper()}_DATABASE_URL"] = database_factory.new_url("sqlite", name)
        async with AsyncExitStack() as stack:
            procs = await stack.enter_async_context(processes(env, tmp_path))
            ready = await asyncio.gather(*(wait_serving(a, 30) for a in addresses.values()))
            assert all(ready), [(tmp_path / f"{n}.log").read_text()[-2000:] for n in SERVICES]
            ch = await stack.enter_async_context(channel(addresses["disputes"]))
            ach = await stack.enter_async_context(channel(addresses["accounts"]))
            disputes = disputes_pb2_grpc.DisputesServiceStub(ch)
            accounts = accounts_pb2_grpc.AccountsServiceStub(ach)
            await s.calendar_policies(disputes, "WRONG_ITEM", TARGET_S)
            c = await s.customer(accounts)
            inv = await s.invoice(accounts, c.name, "INV-E2E-T")

            origin = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"  # a sampled caller
            origin_id = tracing.trace_id_of(origin)
            token = otel_context.attach(tracing.context_from(origin))
            try:
                case = await disputes.CreateDispute(
                    pb.CreateDisputeRequest(
                        dispute=s.new_case(
                            c.name, s.whole(inv.name), reason="WRONG_ITEM", first_note=NOTE
                        )
                    )
                )
            finally:
                otel_context.detach(token)
            resolve_policy = next(k for k in case.clocks if k.kind == pb.RESOLVE).policy

            async def breached():
                view = await disputes.GetDisputeTrace(pb.GetDisputeTraceRequest(name=case.name))
                return view if view.breach_trace_ids else None

            view = await _until(breached, TARGET_S + 8)
            (breach_id,) = view.breach_trace_ids
            assert view.origin_trace_id == origin_id and view.traces[0].trace_id == origin_id
            assert breach_id in [t.trace_id for t in view.traces]

            def breach_trace_complete(r: OtlpReceiver):
                spans = r.trace(breach_id)  # the processes export in batches, in any order
                seen = {(x.service, x.name.rsplit("/", 1)[-1], x.kind) for x in spans}
                return spans if seen >= BREACH_TREE else None

            breach_trace = await otlp.until(breach_trace_complete, within=10)

            async def counted():
                found = await asyncio.to_thread(scrape, metrics_port)
                return found if any(n == "settle_sla_breaches_total" for n, _ in found) else None

            metrics = await _until(counted, 10)  # counted once the firing has committed
        assert [p.returncode for p in procs] == [0, 0, 0]

    policy_id = resolve_policy.removeprefix("slaPolicies/")
    breach_labels = (("clock", "RESOLVE"), ("policy", policy_id), ("reason", "WRONG_ITEM"),
                     ("team", ""))  # fmt: skip
    assert metrics[("settle_sla_breaches_total", breach_labels)] == 1
    assert metrics[("settle_sla_warnings_total", breach_labels)] == 2
    assert any(n == "settle_cases_open" for n, _ in metrics)
    assert any(n == "settle_sweeper_lag_seconds" for n, _ in metrics)

    spans = otlp.spans
    origin_trace = otlp.trace(origin_id)
    print("\norigin trace:\n  " + "\n  ".join(tree(origin_trace)))
    print("breach trace:\n  " + "\n  ".join(tree(breach_trace)))
    roots = [x for x in spans if x.parent_span_id is None]
    print(f"{len(spans)} spans received, {len(roots)} roots: "
          f"{sorted({f'{x.service}: {x.name}' for x in roots})}")  # fmt: skip

    # The opening: one trace across the caller, disputes and accounts; clock events on its span.
    (create,) = [x for x in origin_trace if x.name.endswith("/CreateDispute")]
    assert (create.service, create.kind) == ("settle-disputes", "server")
    started = [e for e in create.events if e.name == "settle.sla.started"]
    assert {e.attributes[tracing.CLOCK_KIND] for e in started} == {"ACKNOWLEDGE", "RESOLVE"}
    for event in started:
        assert event.attributes[tracing.CASE_ID] == case.name.removeprefix("disputes/")
        assert event.attributes[tracing.TARGET_S] == event.attributes[tracing.BUSINESS_REMAINING_S]
        assert event.attributes[tracing.POLICY]
    accounts_calls = {x.name.rsplit("/", 1)[-1] for x in origin_trace if x.service ==
                      "settle-accounts" and x.kind == "server"}  # fmt: skip
    assert {"GetCustomer", "GetInvoice", "PlaceHold"} <= accounts_calls, tree(origin_trace)

    # The breach: its own trace, ERROR, linked to the opening; the escalation work inside it.
    (breach,) = [x for x in breach_trace if x.name == "settle.sla.breach"]
    assert (breach.service, breach.status, breach.parent_span_id) == (
        "settle-disputes",
        "error",
        None,
    )
    assert [li.trace_id for li in breach.links] == [origin_id]
    (breached,) = breach.events  # the batch's one breach, with its case and clock
    assert breached.name == "settle.sla.breached"
    assert breached.attributes[tracing.CASE_ID] == case.name.removeprefix("disputes/")
    assert breached.attributes[tracing.CLOCK_KIND] == "RESOLVE"
    assert breached.attributes[tracing.BUSINESS_REMAINING_S] <= 0
    (deliver,) = [x for x in breach_trace if x.name == "outbox deliver RaiseEscalation"]
    assert deliver.parent_span_id == breach.span_id, tree(breach_trace)
    (raised,) = [x for x in breach_trace if x.name == "RaiseEscalations batch"]
    assert (deliver.trace_id, deliver.span_id) in {(li.trace_id, li.span_id) for li in raised.links}
    assert [e.name for e in raised.events] == ["settle.escalation.raised"]
    # Both warnings, in one batch's span or two, each an event linked to the opening.
    warnings = [x for x in spans if x.name == "settle.sla.warning"]
    warned = [e for w in warnings for e in w.events if e.name == "settle.sla.warned"]
    assert len(warned) == 2 and all(li.trace_id == origin_id for w in warnings for li in w.links)

    ours = [x for x in spans if x.service.startswith("settle-")]
    assert personal_data_in(ours, known=["Ana Buch", "ana.buch@acme.example"]) == []


async def _until(probe, within: float):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)
