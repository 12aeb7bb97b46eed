"""Streaming methods through HTTP and through the gRPC proxy: the escalation watch as
Server-Sent Events that resume from Last-Event-ID, and the open-item import as a raw CSV body or
a JSON array of messages; a body cut short never becomes a (truncated) import."""

from __future__ import annotations

import base64
import json
import uuid

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from settle.escalation.v1 import escalation_pb2 as esc
from settle.escalation.v1 import escalation_pb2_grpc
from tests.gateway.support import bearer, error_info, raise_escalation, token

LEAD, COLLECTOR, SALES = bearer("team_lead"), bearer("collector"), bearer("sales", subject="sam")
HEADER = (
    "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
    "Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
)


def _rows(customer: str, count: int, first: int = 0) -> str:
    """Rows of the IBM sample layout; invoice numbers unique to the customer."""
    base = int(customer[:4]) * 1_000_000 + first
    return "".join(
        f"391,{customer},4/6/2013,{base + i:010d},1/2/2013,2/1/2013,55.94,No,,Paper,,\n"
        for i in range(count)
    )


def _unique_customer() -> str:
    return f"{uuid.uuid4().int % 10_000:04d}-{uuid.uuid4().hex[:5].upper()}"


def _customers_named(stack, ref: str) -> list:
    listed = stack.http.get("/v1/customers", params={"filter": f"external_ref={ref}"}, headers=LEAD)
    return listed.json()["customers"]


def test_a_csv_body_is_imported_with_options_from_the_query(stack):
    ref = _unique_customer()
    csv = (HEADER + _rows(ref, 3)).encode()
    params = {"options.currencyCode": "USD", "options.fileName": "sample.csv"}
    headers = {**LEAD, "Content-Type": "text/csv"}
    first = stack.http.post("/v1/openItems:import", params=params, headers=headers, content=csv)
    assert first.status_code == 200, first.text
    assert (first.json()["rowsRead"], first.json()["imported"]) == ("3", "3")
    again = stack.http.post("/v1/openItems:import", params=params, headers=headers, content=csv)
    assert (again.json()["imported"], again.json()["skipped"]) == ("0", "3")
    assert len(_customers_named(stack, ref)) == 1


def test_a_json_array_is_the_stream_of_messages(stack):
    ref = _unique_customer()
    chunk = base64.b64encode((HEADER + _rows(ref, 2)).encode()).decode()
    body = [{"options": {"currencyCode": "USD"}}, {"chunk": chunk}]
    response = stack.http.post("/v1/openItems:import", headers=LEAD, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == "2"
    not_a_list = stack.http.post("/v1/openItems:import", headers=LEAD, json=body[0])
    assert not_a_list.status_code == 400


def test_an_import_cut_short_by_the_size_limit_imports_nothing(stack):
    ref = _unique_customer()

    def body():  # chunked, no Content-Length: the limit is found while streaming to accounts
        yield HEADER.encode()
        for block in range(40):
            yield _rows(ref, 100, first=block * 100).encode()

    response = stack.http.post(
        "/v1/openItems:import",
        params={"options.currencyCode": "USD"},
        headers={**LEAD, "Content-Type": "text/csv"},
        content=body(),
    )
    assert response.status_code == 413
    assert error_info(response.json())["reason"] == "BODY_TOO_LARGE"
    assert _customers_named(stack, ref) == []


def test_import_through_the_grpc_proxy(stack):
    ref = _unique_customer()
    stub = accounts_pb2_grpc.AccountsServiceStub(stack.channel)
    messages = [
        pb.ImportOpenItemsRequest(options=pb.ImportOptions(currency_code="USD")),
        pb.ImportOpenItemsRequest(chunk=(HEADER + _rows(ref, 2)).encode()),
    ]
    report = stub.ImportOpenItems(
        iter(messages), metadata=(("authorization", f"Bearer {token('gbs')}"),)
    )
    assert report.imported == 2


def _raise(stack, team: str) -> dict:
    return raise_escalation(stack, team, COLLECTOR)


def _events(response, until: str, limit: int = 50):
    """SSE events ({"id", "data"}) up to the one about escalation `until`."""
    event: dict = {}
    for line in response.iter_lines():
        if line.startswith("id: "):
            event["id"] = line[4:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line == "" and event:
            yield event
            if event.get("data", {}).get("escalation", {}).get("name") == until:
                return
            event, limit = {}, limit - 1
            assert limit, "the event never came"


def test_watch_is_server_sent_events_that_resume_after_last_event_id(stack):
    first = _raise(stack, "SALES")
    _raise(stack, "LEGAL")  # another team's: a Sales user never sees it
    with stack.http.stream(
        "GET", "/v1/escalations:watch", params={"cursor": "0"}, headers=SALES
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        seen = list(_events(r, until=first["name"]))
    assert all(e["data"]["escalation"]["team"] == "SALES" for e in seen)
    assert seen[-1]["id"] == seen[-1]["data"]["cursor"]
    second = _raise(stack, "SALES")
    resumed = {**SALES, "Last-Event-ID": seen[-1]["id"]}
    with stack.http.stream("GET", "/v1/escalations:watch", headers=resumed) as r:
        after = list(_events(r, until=second["name"]))
    assert first["name"] not in [e["data"]["escalation"]["name"] for e in after]


def test_a_watch_refused_at_once_gets_its_http_status(stack):
    response = stack.http.get("/v1/escalations:watch", params={"team": "LEGAL"}, headers=SALES)
    assert response.status_code in (403, 404)  # another team's stream: not for a Sales user


def test_watch_through_the_grpc_proxy(stack):
    raised = _raise(stack, "GBS")
    stub = escalation_pb2_grpc.EscalationServiceStub(stack.channel)
    stream = stub.WatchEscalations(
        esc.WatchEscalationsRequest(cursor="0"),
        timeout=10,
        metadata=(("authorization", f"Bearer {token('gbs')}"),),
    )
    try:
        names = []
        for event in stream:
            assert event.escalation.team == esc.GBS
            names.append(event.escalation.name)
            if event.escalation.name == raised["name"]:
                break
    finally:
        stream.cancel()
    assert raised["name"] in names


def test_a_stream_refused_by_the_gateway_over_grpc(stack):
    stub = escalation_pb2_grpc.EscalationServiceStub(stack.channel)
    try:
        next(stub.WatchEscalations(esc.WatchEscalationsRequest(), timeout=5))
        raise AssertionError("an unauthenticated watch was served")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
