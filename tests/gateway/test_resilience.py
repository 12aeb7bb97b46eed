"""A backend killed mid-test: the gateway answers 503 at once (no hang), says so in /readyz,
keeps serving the other backends, and recovers by itself when the backend is back."""

from __future__ import annotations

import time

import grpc
import pytest

from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.gateway.support import bearer, running_stack, token

LEAD = bearer("team_lead")


@pytest.fixture
def stack(database_factory):
    with running_stack(database_factory) as running:
        yield running


def _timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_a_killed_backend_is_503_fast_and_comes_back(stack):
    created = stack.http.post("/v1/customers", headers=LEAD, json={"displayName": "Before"})
    assert created.status_code == 200
    stack.stop_backend("accounts")

    response, took = _timed(lambda: stack.http.get(f"/v1/{created.json()['name']}", headers=LEAD))
    assert response.status_code == 503 and took < 1.0, took
    error = response.json()["error"]
    assert (error["status"], error["message"]) == (
        "UNAVAILABLE",
        "the accounts service is unavailable; retry shortly",
    )
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.RequestInfo",
            "requestId": response.headers["x-request-id"],
        }
    ]
    stub = accounts_pb2_grpc.AccountsServiceStub(stack.channel)
    with pytest.raises(grpc.RpcError) as info:
        _timed(
            lambda: stub.ListCustomers(
                pb.ListCustomersRequest(),
                timeout=5,
                metadata=(("authorization", f"Bearer {token('team_lead')}"),),
            )
        )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE

    ready, took = _timed(lambda: stack.http.get("/readyz"))
    assert ready.status_code == 503 and ready.json()["notReady"] == ["accounts"] and took < 2.5
    assert stack.http.get("/v1/escalations", headers=LEAD).status_code == 200  # the others serve

    stack.start_backend("accounts")
    deadline = time.monotonic() + 15
    while (
        again := stack.http.get(f"/v1/{created.json()['name']}", headers=LEAD)
    ).status_code == 503:
        assert time.monotonic() < deadline, "the gateway did not reconnect"
        time.sleep(0.2)
    assert again.status_code == 200 and again.json()["displayName"] == "Before"
    # Readiness follows the backend's health checks, which may lag the first answered call.
    while stack.http.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "/readyz did not recover"
        time.sleep(0.2)
