"""The gateway counts every request it serves: HTTP per route (unmatched paths share one label)
and gRPC per method, with the status each got."""

from __future__ import annotations

import grpc
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from common.metrics import HTTP_SERVER_DURATION, RPC_SERVER_DURATION
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.gateway.support import bearer, running_stack


def points(reader: InMemoryMetricReader, name: str) -> list[dict]:
    found = []
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [dict(p.attributes, count=p.count) for p in metric.data.data_points]
    return found


def test_http_routes_and_grpc_methods_are_measured(database_factory):
    reader = InMemoryMetricReader()
    with running_stack(
        database_factory, meter_provider=MeterProvider(metric_readers=[reader])
    ) as stack:
        headers = bearer("collector")
        assert stack.http.get("/v1/customers", headers=headers).status_code == 200
        assert stack.http.get("/v1/customers", headers={}).status_code == 401
        assert stack.http.get("/no/such/thing/123", headers=headers).status_code == 404
        stub = accounts_pb2_grpc.AccountsServiceStub(stack.channel)
        stub.ListCustomers(
            pb.ListCustomersRequest(),
            metadata=tuple((k.lower(), v) for k, v in headers.items()),
            timeout=10,
        )
        try:
            stub.ListCustomers(pb.ListCustomersRequest(), timeout=10)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED

    http = {
        (p["http.route"], p["http.response.status_code"]): p["count"]
        for p in points(reader, HTTP_SERVER_DURATION)
    }
    assert http[("/v1/customers", 200)] == 1 and http[("/v1/customers", 401)] == 1
    assert ("unmatched", 404) in http and all("/no/such" not in route for route, _ in http)
    rpc = {
        (p["rpc.method"], p["rpc.grpc.status_code"]): p["count"]
        for p in points(reader, RPC_SERVER_DURATION)
    }
    assert rpc[("ListCustomers", 0)] == 1
    assert rpc[("ListCustomers", grpc.StatusCode.UNAUTHENTICATED.value[0])] == 1
