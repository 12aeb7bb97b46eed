"""Every gRPC status a backend can return becomes the HTTP status of the one table, with the
google.rpc.Status JSON body; 5xx bodies carry no internals; the gRPC proxy passes statuses and
details through. The gateway's own refusals use the same shape."""

from __future__ import annotations

import time

import grpc
import pytest

from gateway.errors import HTTP_STATUS, http_status_of
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.gateway.fakes import FailingAccounts
from tests.gateway.support import bearer, error_info, grpc_error_info, running_stack, token

EXPECTED = {  # the table of the API guide (docs/gateway.md)
    "OK": 500,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 409,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}
BACKEND_CODES = [c for c in grpc.StatusCode if c is not grpc.StatusCode.OK]


def test_the_table_covers_every_status_code():
    assert {code.name: http_status_of(code) for code in grpc.StatusCode} == EXPECTED
    assert set(HTTP_STATUS.values()) <= set(EXPECTED.values())


@pytest.fixture(scope="module")
def failing(database_factory):
    with running_stack(
        database_factory, {"deadline_s": 0.5}, fakes={"accounts": FailingAccounts}, real=False
    ) as stack:
        yield stack


def _get(stack, what: str):
    return stack.http.get(f"/v1/customers/{what}", headers=bearer("collector"))


@pytest.mark.parametrize("code", BACKEND_CODES, ids=lambda c: c.name)
def test_every_backend_status_maps_to_its_http_status_and_body(failing, code):
    response = _get(failing, code.name)
    error = response.json()["error"]
    if code == grpc.StatusCode.UNAUTHENTICATED:
        # The backend refused the gateway's signature: the gateway's fault, not the caller's.
        assert (response.status_code, error["status"]) == (500, "INTERNAL")
        return
    assert response.status_code == EXPECTED[code.name]
    assert error["code"] == response.status_code and error["status"] == code.name
    # An outage says when to come back; nothing else does (429 is the gateway's own refusal).
    expected_wait = "1" if code == grpc.StatusCode.UNAVAILABLE else None
    assert response.headers.get("retry-after") == expected_wait
    if code in (
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):  # the backend's text may name hosts: replaced
        assert error["message"].startswith("the ") and "accounts service" in error["message"]
        assert "10.1.2.3" not in response.text
    elif response.status_code < 500:
        assert error["message"] == f"internal detail: {code.name} at 10.1.2.3:5432"
        assert error_info(response.json())["reason"] == f"R_{code.name}"
        violations = [d for d in error["details"] if "fieldViolations" in d]
        assert violations[0]["fieldViolations"] == [{"field": "name", "description": "bad"}]
    else:  # nothing of the backend's internals
        assert "10.1.2.3" not in response.text and "R_" not in response.text
        assert error["details"][-1]["requestId"] == response.headers["x-request-id"]


def test_a_hung_backend_is_a_504_within_the_deadline(failing):
    started = time.perf_counter()
    response = _get(failing, "HANG")
    assert response.status_code == 504
    assert time.perf_counter() - started < 2.0  # the configured deadline is 0.5 s
    assert response.json()["error"]["status"] == "DEADLINE_EXCEEDED"


def test_an_unreachable_backend_is_a_503_at_once(failing):
    started = time.perf_counter()
    response = failing.http.get("/v1/disputes", headers=bearer("collector"))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert time.perf_counter() - started < 1.0
    assert (
        response.json()["error"]["message"] == "the disputes service is unavailable; retry shortly"
    )
    ready = failing.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["notReady"] == ["disputes", "escalation"]


@pytest.mark.parametrize(
    "code", [c for c in BACKEND_CODES if EXPECTED[c.name] < 499], ids=lambda c: c.name
)
def test_the_grpc_proxy_passes_statuses_and_details_through(failing, code):
    stub = accounts_pb2_grpc.AccountsServiceStub(failing.channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.GetCustomer(
            pb.GetCustomerRequest(name=f"customers/{code.name}"),
            metadata=(("authorization", f"Bearer {token('collector')}"),),
        )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        assert info.value.code() == grpc.StatusCode.INTERNAL
        return
    assert info.value.code() == code
    assert grpc_error_info(info.value)["reason"] == f"R_{code.name}"


def test_over_grpc_an_unavailable_backend_carries_a_retry_after_trailer(failing):
    stub = accounts_pb2_grpc.AccountsServiceStub(failing.channel)
    metadata = (("authorization", f"Bearer {token('collector')}"),)
    with pytest.raises(grpc.RpcError) as info:
        stub.GetCustomer(pb.GetCustomerRequest(name="customers/UNAVAILABLE"), metadata=metadata)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert dict(info.value.trailing_metadata())["retry-after"] == "1"
    with pytest.raises(grpc.RpcError) as other:
        stub.GetCustomer(pb.GetCustomerRequest(name="customers/NOT_FOUND"), metadata=metadata)
    assert "retry-after" not in dict(other.value.trailing_metadata())


def test_the_grpc_proxy_keeps_a_shorter_caller_deadline(failing):
    stub = accounts_pb2_grpc.AccountsServiceStub(failing.channel)
    started = time.perf_counter()
    with pytest.raises(grpc.RpcError) as info:
        stub.GetCustomer(
            pb.GetCustomerRequest(name="customers/HANG"),
            timeout=0.2,
            metadata=(("authorization", f"Bearer {token('collector')}"),),
        )
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.perf_counter() - started < 0.45


def test_the_grpc_proxy_answers_with_the_backends_message(failing):
    stub = accounts_pb2_grpc.AccountsServiceStub(failing.channel)
    reply, call = stub.GetCustomer.with_call(
        pb.GetCustomerRequest(name="customers/OK"),
        metadata=(("authorization", f"Bearer {token('collector')}"), ("x-request-id", "req-42")),
    )
    assert reply.display_name == "Fake"
    assert ("x-request-id", "req-42") in call.trailing_metadata()


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "content", "headers", "status", "reason"),
    [
        ("POST", "/v1/customers", b"{", JSON, 400, "MALFORMED_JSON"),
        (
            "POST",
            "/v1/customers",
            b'{"displayName": "x", "colour": "red"}',
            JSON,
            400,
            "INVALID_FIELD",
        ),
        ("POST", "/v1/customers", b'{"displayName": ["x"]}', JSON, 400, "INVALID_FIELD"),
        ("GET", "/v1/customers?colour=red", b"", {}, 400, "UNKNOWN_QUERY_PARAMETER"),
        (
            "POST",
            "/v1/customers",
            b"{}",
            {"Content-Type": "text/plain"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("POST", "/v1/customers", b'{"a": "' + b"x" * 70_000 + b'"}', JSON, 413, "BODY_TOO_LARGE"),
        ("DELETE", "/v1/customers", b"", {}, 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/v1/nowhere", b"", {}, 404, "ROUTE_NOT_FOUND"),
        ("GET", "/nowhere/at/all", b"", {}, 404, "ROUTE_NOT_FOUND"),
        ("POST", "/healthz", b"", {}, 405, "METHOD_NOT_ALLOWED"),  # RFC 9110: was 404
        ("OPTIONS", "/v1/customers", b"", {}, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/v1/customers", b"{}", {}, 415, "UNSUPPORTED_MEDIA_TYPE"),  # no Content-Type
        (
            "POST",
            "/v1/customers",
            b"{}",
            {"Content-Type": "application/json; charset=latin-1"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "POST",
            "/v1/customers",
            '{"displayName": "x"}'.encode("utf-16"),
            JSON,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "POST",
            "/v1/customers",
            '{"displayName": "x"}'.encode("utf-16-le"),  # no byte-order mark
            JSON,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("POST", "/v1/openItems:import", b"a,b\n", {}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("GET", "/v1/customers/%FF", b"", {}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_the_gateways_own_refusals(failing, method, path, content, headers, status, reason):
    response = failing.http.request(
        method, path, content=content, headers={**bearer("team_lead"), **headers}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert error_info(response.json())["reason"] == reason
    assert response.json()["error"]["code"] == status


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/customers", "GET, POST"),  # a method another route of the path has
        ("OPTIONS", "/v1/customers", "GET, POST"),  # a method no route has
        ("PUT", "/v1/disputes/" + "0" * 32, "GET, PATCH"),
        ("PUT", "/healthz", "GET"),  # the gateway's own paths too (was 404)
        ("OPTIONS", "/healthz", "GET"),
        ("POST", "/readyz", "GET"),
        ("DELETE", "/openapi.json", "GET"),
    ],
)
def test_405_says_what_is_allowed(failing, method, path, allow):
    response = failing.http.request(method, path, headers=bearer("team_lead"))
    assert response.status_code == 405
    assert response.headers["allow"] == allow


def test_a_json_body_in_utf_8_by_its_charset_is_accepted(failing):
    response = failing.http.post(
        "/v1/customers",
        content=b"{}",
        headers={**bearer("team_lead"), "Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.status_code != 415


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "CREDENTIALS_MISSING"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "CREDENTIALS_MALFORMED"),
        ({"Authorization": "Bearer not.a.token"}, "TOKEN_INVALID"),
        ({"X-Api-Key": "settle_wrong"}, "API_KEY_INVALID"),
        ({"X-Api-Key": "k", "Authorization": "Bearer t"}, "AMBIGUOUS_CREDENTIALS"),
    ],
)
def test_unauthenticated_is_401_with_a_challenge(failing, headers, reason):
    response = failing.http.get("/v1/customers/OK", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_info(response.json())["reason"] == reason
