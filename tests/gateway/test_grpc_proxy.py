"""The gRPC front door: the same services, authenticated from metadata, with health and
reflection; the caller's identity reaches the service."""

from __future__ import annotations

import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.catalog import load_catalog
from settle.escalation.v1 import escalation_pb2 as esc
from settle.escalation.v1 import escalation_pb2_grpc
from tests.gateway.support import grpc_error_info, token


def test_reflection_lists_every_service(stack):
    stub = reflection_pb2_grpc.ServerReflectionStub(stack.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    reply = next(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in reply.list_services_response.service}
    assert set(load_catalog().service_names()) | {"grpc.health.v1.Health"} <= names


def test_health_is_serving_for_the_gateway_and_each_service(stack):
    stub = health_pb2_grpc.HealthStub(stack.channel)
    for service in ("", *load_catalog().service_names()):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_the_caller_is_who_the_service_records(stack):
    stub = escalation_pb2_grpc.EscalationServiceStub(stack.channel)
    raised = stub.RaiseEscalation(
        esc.RaiseEscalationRequest(
            subject=f"customers/{uuid.uuid4().hex}", team=esc.GBS, reason_code="BILLING_CORRECTION"
        ),
        metadata=(("authorization", f"Bearer {token('specialist', subject='sofia')}"),),
        timeout=5,
    )
    assert raised.raised_by == "user:sofia"


@pytest.mark.parametrize(
    ("metadata", "code", "reason"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING"),
        ((("authorization", "Bearer nope"),), grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID"),
        (
            (("authorization", f"Bearer {token('sre')}"),),
            grpc.StatusCode.PERMISSION_DENIED,
            "ROLE_NOT_ALLOWED",
        ),
    ],
)
def test_refusals_carry_google_rpc_details(stack, metadata, code, reason):
    stub = escalation_pb2_grpc.EscalationServiceStub(stack.channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.RaiseEscalation(esc.RaiseEscalationRequest(), metadata=metadata, timeout=5)
    assert info.value.code() == code
    assert grpc_error_info(info.value)["reason"] == reason
