"""A real accounts server, traced as in production: the caller's span, the server span (rpc.*) and
the database spans (db.*) form one trace with the right parentage, and no span carries the
personal data the requests contained."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from common.clock import ManualClock
from common.settings import Settings
from services.accounts.server import assemble
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.support.otlp import ReceivedSpan
from tests.support.pii import personal_data_in
from tests.support.rpc import TEST_SECRET, channel, running

CONTACT_NAME, CONTACT_EMAIL = "Ana Buch", "ana.buch@acme.example"
SERVICE = "settle.accounts.v1.AccountsService"


def accounts_settings(url: str) -> Settings:
    return Settings("accounts", url, "127.0.0.1:0", True, TEST_SECRET, "WARNING")


def customer() -> pb.Customer:
    return pb.Customer(
        display_name="Acme GmbH",
        country_code="DE",
        time_zone="Europe/Berlin",
        currency_code="EUR",
        contacts=[pb.Contact(name=CONTACT_NAME, email=CONTACT_EMAIL, phone="+49 30 1234567")],
    )


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    chain = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


async def test_caller_server_and_database_spans_share_one_trace(
    session_telemetry, otlp, database_factory
):
    url = database_factory.new_url("sqlite", "accounts")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    tracer = session_telemetry.tracer("tests")
    process = assemble(accounts_settings(url), session_telemetry, clock).process
    async with running(process) as address, channel(address) as ch:
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        with tracer.start_as_current_span("test: create and read a customer") as root:
            created = await stub.CreateCustomer(pb.CreateCustomerRequest(customer=customer()))
            await stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
    trace_id = format(root.get_span_context().trace_id, "032x")

    def complete(receiver):
        spans = receiver.trace(trace_id)
        servers = [s for s in spans if s.kind == "server"]
        root = any(s.name == "test: create and read a customer" for s in spans)
        clients = sum(1 for s in spans if s.kind == "client" and "db.system" not in s.attributes)
        # every span of the tree, not only the servers': export batches arrive in any order
        done = root and clients == 2 and len(servers) == 2
        return spans if done and any(s.attributes.get("db.system") for s in spans) else None

    spans = await otlp.until(complete)
    by_id = {s.span_id: s for s in spans}
    servers = {s.attributes["rpc.method"]: s for s in spans if s.kind == "server"}
    assert set(servers) == {"CreateCustomer", "GetCustomer"}
    for method, server in servers.items():
        assert server.service == "settle-accounts"
        assert server.attributes["rpc.system"] == "grpc"
        assert server.attributes["rpc.service"] == SERVICE
        assert server.attributes["rpc.grpc.status_code"] == 0
        caller = by_id[server.parent_span_id]  # the test's client span, across the wire
        assert caller.kind == "client" and caller.name.endswith(method)
        assert by_id[caller.parent_span_id].name == "test: create and read a customer"

    db_spans = [s for s in spans if "db.system" in s.attributes]
    assert db_spans, "no database spans"
    for span in db_spans:
        assert span.kind == "client"
        assert span.attributes["db.system"] == "sqlite"
        assert span.attributes.get("db.statement"), span.attributes
        owner = [a for a in ancestors(span, by_id) if a.kind == "server"]
        assert owner, f"database span {span.name} is not under a server span"
    inserts = [
        s for s in db_spans if s.attributes["db.statement"].lstrip().upper().startswith("INSERT")
    ]
    assert {
        a.attributes["rpc.method"]
        for s in inserts
        for a in ancestors(s, by_id)
        if a.kind == "server"
    } == {"CreateCustomer"}

    findings = personal_data_in(spans, known=[CONTACT_NAME, CONTACT_EMAIL, "1234567"])
    assert findings == [], findings


def test_the_scan_finds_personal_data_when_it_is_there():
    span = ReceivedSpan(
        service="s", scope="x", name="n", kind="internal", trace_id="0" * 32, span_id="1" * 16,
        parent_span_id=None, attributes={"contact.email": "x", "db.statement": "a ana@b.example"},
        events=(), links=(), status="unset", status_message="", start_ns=0, end_ns=1,
    )  # fmt: skip
    findings = personal_data_in([span], known=["Ana Buch"])
    assert len(findings) == 2, findings
    assert personal_data_in([span], known=["a ana"])[-1].startswith("s:n db.statement")


async def test_a_refused_call_is_an_error_for_the_caller_only(
    session_telemetry, otlp, database_factory
):
    """NOT_FOUND is the caller's problem: its client span is an error, the server span is not
    (the gRPC semantic conventions); both record the status code."""
    url = database_factory.new_url("sqlite", "accounts")
    tracer = session_telemetry.tracer("tests")
    process = assemble(accounts_settings(url), session_telemetry).process
    async with running(process) as address, channel(address) as ch:
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        with (
            tracer.start_as_current_span("test: read a missing customer") as root,
            pytest.raises(grpc.aio.AioRpcError) as refused,
        ):
            await stub.GetCustomer(pb.GetCustomerRequest(name="customers/" + "0" * 32))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    trace_id = format(root.get_span_context().trace_id, "032x")
    spans = await otlp.until(
        lambda r: (
            len([s for s in r.trace(trace_id) if "rpc.system" in s.attributes]) >= 2
            and r.trace(trace_id)
        )
    )
    rpc = {s.kind: s for s in spans if "rpc.system" in s.attributes}
    assert rpc["server"].parent_span_id == rpc["client"].span_id
    assert rpc["client"].attributes["rpc.grpc.status_code"] == 5
    assert rpc["server"].attributes["rpc.grpc.status_code"] == 5
    assert (rpc["client"].status, rpc["server"].status) == ("error", "unset")
