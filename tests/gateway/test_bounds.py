"""Every request field has a ceiling (common/contract.py: declared in the protos, else a default):
repeated fields and maps a number of entries, strings a length. Over HTTP and over gRPC a request
past one is INVALID_ARGUMENT naming the field before any backend sees it, and the OpenAPI document
declares each bound (issue 17: 10,000 reason codes on one SLA policy were stored)."""

from __future__ import annotations

import grpc
import pytest

from common import contract_rules
from gateway.auth.policy import Policy
from gateway.catalog import load_catalog
from settle.accounts.v1 import accounts_pb2, accounts_pb2_grpc
from tests.gateway.support import bearer, grpc_error_info, token

ADMIN = bearer(("admin", "specialist"), subject="bounds-admin")


def _policy(reason_codes: list[str]) -> dict:
    return {
        "clock": "RESOLVE",
        "target": {"value": 5, "unit": "BUSINESS_DAYS"},
        "reasonCodes": reason_codes,
        "precedence": 7,
        "active": True,
    }


def _fields(response) -> list[str]:
    details = response.json()["error"]["details"]
    return [v["field"] for d in details for v in d.get("fieldViolations", [])]


def test_a_thousand_reason_codes_on_one_sla_policy_are_refused(stack):
    codes = ["WRONG_ITEM"] * 1000  # ten times the bound, within the gateway's body size
    response = stack.http.post("/v1/slaPolicies", headers=ADMIN, json=_policy(codes))
    assert response.status_code == 400, response.text[:300]
    assert _fields(response) == ["sla_policy.reason_codes"]
    listed = stack.http.get("/v1/slaPolicies", headers=ADMIN, params={"pageSize": 1000})
    assert all(len(p.get("reasonCodes", [])) <= 100 for p in listed.json()["slaPolicies"])


def test_a_string_past_its_bound_is_refused_over_http_and_grpc(stack):
    long_name = "x" * (contract_rules.DEFAULT_MAX_CHARS + 1)
    response = stack.http.post("/v1/customers", headers=ADMIN, json={"displayName": long_name})
    assert response.status_code == 400 and _fields(response) == ["customer.display_name"]
    stub = accounts_pb2_grpc.AccountsServiceStub(stack.channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateCustomer(
            accounts_pb2.CreateCustomerRequest(
                customer=accounts_pb2.Customer(
                    display_name="ok", contacts=[accounts_pb2.Contact(name=long_name)]
                )
            ),
            metadata=(("authorization", f"Bearer {token(('admin', 'specialist'))}"),),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_error_info(refused.value)["reason"] == "OUT_OF_BOUNDS"


def test_the_openapi_document_declares_every_bound(stack):
    document = stack.http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    policy = schemas["settle.disputes.v1.SlaPolicy"]["properties"]
    assert policy["reasonCodes"]["maxItems"] == 100
    assert policy["reasonCodes"]["items"]["maxLength"] == contract_rules.DEFAULT_MAX_CHARS
    assert "maxItems" not in schemas["settle.disputes.v1.Dispute"]["properties"]["notes"]
    unbounded = []
    for field in _request_fields():
        if field.containing_type.full_name not in schemas:
            continue  # a request read from the path and query only: no schema of its own
        schema = schemas[field.containing_type.full_name]["properties"][field.json_name]
        counted = not field.is_repeated or {"maxItems", "maxProperties"} & schema.keys()
        sized = field.type != field.TYPE_STRING or "maxLength" in schema.get("items", schema)
        if not (counted and sized):
            unbounded.append(field.full_name)
    assert unbounded == []


def _request_fields():
    """Every field a caller can set, in every message a public method takes."""
    seen: set[str] = set()
    pending = [rpc.descriptor.input_type for rpc in Policy().public_rpcs(load_catalog())]
    while pending:
        message = pending.pop()
        if message.full_name in seen or message.full_name.startswith("google.protobuf."):
            continue
        seen.add(message.full_name)
        for field in message.fields:
            if not contract_rules.output_only(field) and not message.GetOptions().map_entry:
                yield field
            if field.message_type is not None:
                pending.append(field.message_type)
