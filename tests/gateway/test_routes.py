"""The route table comes from the protos' google.api.http annotations, with nothing written by
hand: templates, nested field paths, custom verbs, and a method added to a proto is routed."""

from __future__ import annotations

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from common.errors import InvalidArgument, NotFound
from gateway import transcode
from gateway.catalog import Catalog, load_catalog
from gateway.errors import HttpError
from gateway.routing import AnnotationError, PathTemplate, RouteTable

CATALOG = load_catalog()
TABLE = RouteTable.from_rpcs(CATALOG.rpcs)
ID = "0" * 32


def _annotations(rpc):
    rule = rpc.descriptor.GetOptions().Extensions[annotations_pb2.http]
    rules = [rule, *rule.additional_bindings]
    return [r for r in rules if r.WhichOneof("pattern")]


def test_every_annotation_of_every_service_becomes_exactly_one_route():
    expected = sorted(
        (rpc.name, r.WhichOneof("pattern").upper(), getattr(r, r.WhichOneof("pattern")), r.body)
        for rpc in CATALOG.rpcs
        for r in _annotations(rpc)
    )
    actual = sorted((r.rpc.name, r.method, r.template.text, r.body) for r in TABLE.routes)
    assert actual == expected
    assert {"accounts"} <= set(CATALOG.backends)


@pytest.mark.parametrize(
    ("method", "path", "rpc", "bindings"),
    [
        ("GET", f"/v1/customers/{ID}", "GetCustomer", {"name": f"customers/{ID}"}),
        ("PATCH", f"/v1/customers/{ID}", "UpdateCustomer", {"customer.name": f"customers/{ID}"}),
        (
            "GET",
            f"/v1/customers/{ID}/billingAccounts",
            "ListBillingAccounts",
            {"parent": f"customers/{ID}"},
        ),
        ("POST", "/v1/openItems:import", "ImportOpenItems", {}),
        ("GET", "/v1/customers", "ListCustomers", {}),
    ],
)
def test_paths_resolve_to_their_rpc_and_fields(method, path, rpc, bindings):
    route, found = TABLE.match(method, path)
    assert route.rpc.descriptor.name == rpc
    assert found == bindings


def test_custom_verbs_are_not_mistaken_for_ids():
    template = PathTemplate.parse("/v1/{name=disputes/*}:resolve")
    assert template.match(f"/v1/disputes/{ID}:resolve") == {"name": f"disputes/{ID}"}
    assert template.match(f"/v1/disputes/{ID}") is None
    assert PathTemplate.parse("/v1/{name=disputes/*}").match(f"/v1/disputes/{ID}:resolve") is None


def test_multi_segment_variables_and_percent_encoding():
    template = PathTemplate.parse("/v1/{name=subscriptions/*/deliveries/*}:retry")
    assert template.match("/v1/subscriptions/a/deliveries/b:retry") == {
        "name": "subscriptions/a/deliveries/b"
    }
    single = PathTemplate.parse("/v1/{name=customers/*}")
    assert single.match("/v1/customers/a%2Fb") == {"name": "customers/a/b"}  # one segment still
    assert single.match("/v1/customers/a/b") is None
    assert single.match("/v1/customers/caf%C3%A9") == {"name": "customers/café"}
    with pytest.raises(InvalidArgument):
        single.match("/v1/customers/%FF")
    rest = PathTemplate.parse("/v1/{path=files/**}")
    assert rest.match("/v1/files/a/b/c") == {"path": "files/a/b/c"}


def test_unknown_paths_are_404_and_known_paths_with_another_method_405():
    with pytest.raises(NotFound):
        TABLE.match("GET", "/v1/nothing-here")
    with pytest.raises(HttpError) as info:
        TABLE.match("DELETE", f"/v1/customers/{ID}")
    assert info.value.http_status == 405
    assert set(info.value.headers["Allow"].split(", ")) == {"GET", "PATCH"}


def test_malformed_templates_are_refused_at_startup():
    for text in ("v1/no-slash", "/v1/{name=a/*", "/v1//x"):
        with pytest.raises(AnnotationError):
            PathTemplate.parse(text)


def _sample_service(pool_name: str, body: str = "*", path: str = "/v1/{name=widgets/*}:frobnicate"):
    """A service that exists only in this test, as if someone had just added it to a proto."""
    file = descriptor_pb2.FileDescriptorProto(
        name=f"settle/{pool_name}/v1/{pool_name}.proto",
        package=f"settle.{pool_name}.v1",
        syntax="proto3",
        dependency=["google/api/annotations.proto"],
    )
    request = file.message_type.add(name="FrobnicateRequest")
    request.field.add(name="name", number=1, type=9, label=1, json_name="name")
    request.field.add(name="speed_limit", number=2, type=5, label=1, json_name="speedLimit")
    file.message_type.add(name="Widget").field.add(
        name="name", number=1, type=9, label=1, json_name="name"
    )
    method = file.service.add(name="WidgetService").method.add(
        name="Frobnicate",
        input_type=f".settle.{pool_name}.v1.FrobnicateRequest",
        output_type=f".settle.{pool_name}.v1.Widget",
    )
    rule = method.options.Extensions[annotations_pb2.http]
    rule.post, rule.body = path, body
    pool = descriptor_pool.Default()
    pool.Add(file)
    return pool.FindFileByName(file.name).services_by_name["WidgetService"]


def test_a_method_added_to_a_proto_is_routed_and_transcoded_without_gateway_code():
    service = _sample_service("sample")
    table = RouteTable.from_rpcs(Catalog((("sample", service),)).rpcs)
    route, bindings = table.match("POST", f"/v1/widgets/{ID}:frobnicate")
    message = transcode.build_message(
        route.rpc.request_class, route.body, {"speedLimit": 7}, bindings, []
    )
    assert (message.name, message.speed_limit) == (f"widgets/{ID}", 7)
    assert (
        message_factory.GetMessageClass(service.methods[0].output_type) is route.rpc.response_class
    )


def test_an_annotation_naming_a_missing_field_is_refused_at_startup():
    service = _sample_service("broken", body="nope")
    with pytest.raises(AnnotationError, match="body"):
        RouteTable.from_rpcs(Catalog((("broken", service),)).rpcs)
