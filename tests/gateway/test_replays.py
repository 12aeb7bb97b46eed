"""A retried create answered from the idempotency store is marked as a replay through the gateway:
the header `Settle-Replayed: true` over HTTP, the trailer `settle-replayed: true` over gRPC; the
first answer carries neither."""

from __future__ import annotations

from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.gateway.support import bearer, create_invoice, ok, token

LEAD, COLLECTOR = bearer("team_lead", subject="lena"), bearer("collector", subject="carl")


def test_a_retried_dispute_create_carries_the_replay_header(stack):
    customer = ok(stack.http.post("/v1/customers", headers=LEAD, json={"displayName": "Acme"}))
    invoice = create_invoice(stack, customer["name"], "INV-R1", "500.00", LEAD)
    dispute = {
        "customer": customer["name"],
        "title": "Price differs",
        "reasonCode": "PRICING",
        "items": [{"invoice": invoice["name"]}],
    }

    def create():
        return stack.http.post(
            "/v1/disputes",
            headers={**COLLECTOR, "Origin": "http://front.example"},
            params={"requestId": "retry-1"},
            json=dispute,
        )

    first, retried = create(), create()
    assert "settle-replayed" not in first.headers
    assert retried.headers["Settle-Replayed"] == "true"
    assert "settle-replayed" in retried.headers["access-control-expose-headers"].lower()
    assert ok(retried)["name"] == ok(first)["name"]
    listed = ok(stack.http.get("/v1/disputes", headers=COLLECTOR))
    assert [d["name"] for d in listed["disputes"]].count(ok(first)["name"]) == 1


def test_the_grpc_front_door_passes_the_replay_trailer_on(stack):
    stub = accounts_pb2_grpc.AccountsServiceStub(stack.channel)
    metadata = (("authorization", f"Bearer {token('team_lead', subject='lena')}"),)
    request = pb.CreateCustomerRequest(
        customer=pb.Customer(display_name="Acme"), request_id="grpc-retry-1"
    )
    calls = [stub.CreateCustomer.with_call(request, metadata=metadata, timeout=5) for _ in "12"]
    (first, first_call), (again, again_call) = calls
    assert again.name == first.name
    assert ("settle-replayed", "true") not in first_call.trailing_metadata()
    assert ("settle-replayed", "true") in again_call.trailing_metadata()
    assert dict(again_call.trailing_metadata())["x-request-id"]  # the gateway's own still rides
