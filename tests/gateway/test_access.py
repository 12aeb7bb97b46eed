"""The access table against the descriptors, and the role matrix (every public RPC × every role)
through real HTTP and real gRPC: allowed roles pass the gateway, the others get 403; internal
methods do not exist for anyone."""

from __future__ import annotations

import grpc

from gateway.access import ACCESS, INTERNAL, ROLES
from gateway.auth.policy import Policy
from gateway.catalog import load_catalog
from gateway.routing import RouteTable
from tests.gateway.support import (
    GATEWAY_DOMAIN,
    bearer,
    error_info,
    grpc_error_info,
    sample_path,
    token,
)

CATALOG = load_catalog()
PUBLIC = Policy().public_rpcs(CATALOG)
ALL_ROUTES = RouteTable.from_rpcs(CATALOG.rpcs).routes
FIRST_ROUTE = {route.rpc.name: route for route in reversed(ALL_ROUTES)}


def test_every_rpc_of_every_service_has_an_entry():
    names = {rpc.name for rpc in CATALOG.rpcs}
    assert sorted(names - set(ACCESS)) == [], "add these RPCs to gateway/access.py"
    # An entry may run ahead of a proto change that is not generated yet: it grants nothing then.
    for key, entry in ACCESS.items():
        assert entry == INTERNAL or (entry and set(entry) <= set(ROLES)), key


def test_the_methods_only_services_call_are_internal():
    for name in (
        "accounts.v1.AccountsService/PlaceHold",
        "accounts.v1.AccountsService/ReleaseHold",
        "accounts.v1.AccountsService/PostDisputeAdjustment",
        "disputes.v1.DisputesService/ApplyEscalationAnswer",
    ):
        assert ACCESS["settle." + name] == INTERNAL


def _http_call(stack, route, headers) -> tuple[int, dict]:
    body = b"[{}]" if route.rpc.client_streaming else b"{}" if route.body else b""
    with stack.http.stream(route.method, sample_path(route), headers=headers, content=body) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            return r.status_code, {}
        r.read()
        return r.status_code, r.json()


def test_every_public_rpc_admits_exactly_its_roles_over_http(stack):
    wrong = []
    for rpc in PUBLIC:
        route = FIRST_ROUTE.get(rpc.name)
        if route is None:
            continue  # no HTTP annotation: gRPC only
        for role in ROLES:
            status, body = _http_call(stack, route, bearer(role))
            refused = status in (401, 403) and error_info(body).get("domain") == GATEWAY_DOMAIN
            if role in ACCESS[rpc.name]:
                if refused or status >= 500:
                    wrong.append((rpc.name, role, status, body))
            elif (status, error_info(body).get("reason")) != (403, "ROLE_NOT_ALLOWED"):
                wrong.append((rpc.name, role, status, body))
    assert wrong == []


def _grpc_call(stack, rpc, metadata):
    path, timeout = rpc.path, 0.3 if rpc.server_streaming else 5
    if rpc.client_streaming:
        return stack.channel.stream_unary(path)(iter([]), metadata=metadata, timeout=timeout)
    if rpc.server_streaming:
        return next(iter(stack.channel.unary_stream(path)(b"", metadata=metadata, timeout=timeout)))
    return stack.channel.unary_unary(path)(b"", metadata=metadata, timeout=timeout)


def test_every_public_rpc_admits_exactly_its_roles_over_grpc(stack):
    wrong = []
    for rpc in PUBLIC:
        for role in ROLES:
            metadata = (("authorization", f"Bearer {token(role)}"),)
            try:
                _grpc_call(stack, rpc, metadata)
                code, info = grpc.StatusCode.OK, {}
            except (grpc.RpcError, StopIteration) as exc:
                code = exc.code() if isinstance(exc, grpc.RpcError) else grpc.StatusCode.OK
                info = grpc_error_info(exc) if isinstance(exc, grpc.RpcError) else {}
            by_gateway = info.get("domain") == GATEWAY_DOMAIN
            if role in ACCESS[rpc.name]:
                bad = (
                    code == grpc.StatusCode.UNAUTHENTICATED
                    or (code == grpc.StatusCode.PERMISSION_DENIED and by_gateway)
                    or code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
                )
            else:
                bad = (code, info.get("reason")) != (
                    grpc.StatusCode.PERMISSION_DENIED,
                    "ROLE_NOT_ALLOWED",
                )
            if bad:
                wrong.append((rpc.name, role, code, info))
    assert wrong == []


def test_internal_methods_are_missing_for_everyone(stack):
    internal = [r for r in ALL_ROUTES if ACCESS.get(r.rpc.name) == INTERNAL]
    assert internal, "the protos annotate the internal methods too; they must still 404"
    for route in internal:
        for role in ROLES:
            response = stack.http.request(
                route.method, sample_path(route), headers=bearer(role), content=b"{}"
            )
            assert response.status_code == 404, (route.rpc.name, role)
            assert error_info(response.json())["reason"] == "ROUTE_NOT_FOUND"
        try:
            stack.channel.unary_unary(route.rpc.path)(
                b"", metadata=(("authorization", f"Bearer {token('admin')}"),), timeout=5
            )
            raise AssertionError(f"{route.rpc.name} answered through the gateway")
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
