"""The HTTP/JSON API through real HTTP against the real services: the first session of
docs/gateway.md, identity reaching the services, request ids, trace context, CORS."""

from __future__ import annotations

import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.gateway.fakes import FailingAccounts
from tests.gateway.support import API_KEY, bearer, create_invoice, ok, running_stack

LEAD, COLLECTOR = bearer("team_lead", subject="lena"), bearer("collector", subject="carl")


def test_the_first_session_of_the_guide(stack):
    http = stack.http
    customer = ok(
        http.post(
            "/v1/customers",
            headers=LEAD,
            json={
                "displayName": "Acme GmbH",
                "countryCode": "DE",
                "currencyCode": "EUR",
                "externalRef": "C-1000",
                "riskClass": "HIGH",
            },
        )
    )
    assert customer["name"].startswith("customers/") and customer["riskClass"] == "HIGH"
    invoice = create_invoice(stack, customer["name"], "INV-1", "1200.00", LEAD)
    dispute = ok(
        http.post(
            "/v1/disputes",
            headers=COLLECTOR,
            params={"requestId": "first-1"},
            json={
                "customer": customer["name"],
                "title": "Price differs",
                "reasonCode": "PRICING",
                "items": [{"invoice": invoice["name"]}],
            },
        )
    )
    listed = ok(
        http.get(
            "/v1/disputes", headers=COLLECTOR, params={"filter": f"customer={customer['name']}"}
        )
    )
    assert [d["name"] for d in listed["disputes"]] == [dispute["name"]]
    case = dispute["name"]
    assigned = ok(
        http.post(
            f"/v1/{case}:assign",
            headers=COLLECTOR,
            json={"assignee": "user:carl", "etag": dispute["etag"]},
        )
    )
    started = ok(http.post(f"/v1/{case}:start", headers=COLLECTOR, json={"etag": assigned["etag"]}))
    resolved = ok(
        http.post(
            f"/v1/{case}:resolve",
            headers=COLLECTOR,
            json={
                "etag": started["etag"],
                "rootCauseCode": "CUSTOMER_ERROR",
                "outcome": "CUSTOMER_PAYS",
            },
        )
    )
    assert resolved["status"] == "RESOLVED" and resolved["outcome"] == "CUSTOMER_PAYS"
    history = ok(http.get(f"/v1/{case}/history", headers=LEAD))["entries"]
    assert {"user:carl"} <= {entry["actor"] for entry in history}  # the person, not the gateway
    stale = http.post(f"/v1/{case}:close", headers=COLLECTOR, json={"etag": started["etag"]})
    assert stale.status_code == 409 and stale.json()["error"]["status"] == "ABORTED"


def test_an_api_key_acts_as_its_service_account(stack):
    created = ok(
        stack.http.post(
            "/v1/customers", headers={"X-Api-Key": API_KEY}, json={"displayName": "From the ERP"}
        )
    )
    assert created["displayName"] == "From the ERP"


def test_request_ids_go_in_and_come_out(stack):
    given = stack.http.get("/v1/customers", headers={**LEAD, "X-Request-Id": "front-end-42"})
    assert given.headers["x-request-id"] == "front-end-42"
    made = stack.http.get("/v1/customers", headers={**LEAD, "X-Request-Id": "bad id\x7f"})
    assert made.headers["x-request-id"] != "bad id\x7f" and len(made.headers["x-request-id"]) == 32
    assert made.headers["x-content-type-options"] == "nosniff"
    assert made.headers["cache-control"] == "no-store"


def test_the_callers_trace_and_identity_reach_the_service(database_factory):
    # A private tracer provider: OpenTelemetry's global one belongs to the process (one per run).
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with running_stack(
        database_factory, fakes={"accounts": FailingAccounts}, real=False, tracer_provider=provider
    ) as stack:
        headers = {
            **bearer("sre", subject="sid"),
            "traceparent": f"00-{trace_id}-{parent}-01",
            "X-Request-Id": "trace-test-1",
        }
        ok(stack.http.get("/v1/customers/OK", headers=headers))
        received = stack.backends["accounts"].metadata
        deadline = time.monotonic() + 5  # the server ends its span just after the answer
        while not exporter.get_finished_spans() and time.monotonic() < deadline:
            time.sleep(0.02)
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /v1/{name=customers/*}" and span.kind == SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == trace_id
    assert format(span.parent.span_id, "016x") == parent
    assert span.attributes["http.response.status_code"] == 200
    _, sent_trace, sent_parent, _ = received["traceparent"].split("-")
    assert (sent_trace, sent_parent) == (trace_id, format(span.context.span_id, "016x"))
    assert received["x-request-id"] == "trace-test-1"
    assert (received["x-settle-subject"], received["x-settle-roles"]) == ("user:sid", "sre")
    assert received["x-settle-signature"]  # signed with the internal secret


def test_cors_for_configured_origins_only(stack):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = stack.http.options(
        "/v1/customers", headers={"Origin": "http://front.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://front.example"
    refused = stack.http.options(
        "/v1/customers", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
    simple = stack.http.get("/v1/customers", headers={**LEAD, "Origin": "http://front.example"})
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_probes(stack):
    assert stack.http.get("/healthz").json() == {"status": "alive"}
    ready = stack.http.get("/readyz").json()
    assert ready["status"] == "ready" and set(ready["backends"]) == set(stack.addresses)
