"""The OpenAPI document is generated from the descriptors, valid, complete, and readable offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from gateway.auth.policy import Policy
from gateway.catalog import load_catalog
from gateway.openapi.document import OpenApi
from gateway.openapi.paths import path_and_parameters
from gateway.routing import RouteTable
from tests.gateway.support import bearer, ok

ROUTES = RouteTable.from_rpcs(Policy().public_rpcs(load_catalog()))


@pytest.fixture(scope="module")
def document(stack) -> dict:
    response = stack.http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_public_route_is_an_operation_with_its_roles(document):
    for route in ROUTES.routes:
        path, _ = path_and_parameters(route.template)
        operation = document["paths"][path][route.method.lower()]
        assert operation["operationId"].endswith("_" + route.rpc.descriptor.name)
        assert operation["x-roles"], route.rpc.name
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)


def test_internal_methods_are_not_in_the_document(document):
    assert not any("holds" in path or "applyEscalationAnswer" in path for path in document["paths"])


def test_comments_schemas_enums_errors_and_security(document):
    schemas = document["components"]["schemas"]
    get_customer = document["paths"]["/v1/customers/{customer}"]["get"]
    assert get_customer["summary"] == "Gets a customer with its contacts."
    assert get_customer["parameters"][0]["name"] == "customer"
    customer = schemas["settle.accounts.v1.Customer"]
    assert customer["properties"]["countryCode"]["description"] == 'ISO 3166-1 alpha-2, e.g. "DE".'
    assert customer["properties"]["name"]["readOnly"] is True
    assert customer["properties"]["createTime"]["format"] == "date-time"
    assert "displayName" in customer["required"]
    risk = schemas["settle.accounts.v1.RiskClass"]
    assert risk["enum"] == ["RISK_CLASS_UNSPECIFIED", "LOW", "MEDIUM", "HIGH"]
    money = schemas["settle.common.v1.Money"]
    assert "Never a float" in money["description"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/v1/customers"]["get"]["responses"]["default"]["$ref"].endswith(
        "Error"
    )
    list_query = [p["name"] for p in document["paths"]["/v1/customers"]["get"]["parameters"]]
    assert list_query == ["pageSize", "pageToken", "filter", "orderBy"]


def test_streams_are_described(document):
    watch = document["paths"]["/v1/escalations:watch"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in watch
    upload = document["paths"]["/v1/openItems:import"]["post"]
    assert {"application/json", "text/csv"} <= set(upload["requestBody"]["content"])
    assert "options.currencyCode" in [p["name"] for p in upload["parameters"]]


def test_without_the_protos_the_document_only_lacks_descriptions(tmp_path, document):
    bare = OpenApi(ROUTES, Path(tmp_path / "missing")).build()
    assert bare["paths"].keys() == document["paths"].keys()
    assert "description" not in bare["components"]["schemas"]["settle.common.v1.Money"]


def test_the_docs_page_is_self_contained(stack):
    page = stack.http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(
        r"(src|href)\s*=\s*[\"']?(https?:)?//", page.text
    )  # nothing loaded from elsewhere
    assert 'fetch("/openapi.json")' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_path_parameters_are_named_after_their_collection(document):
    assert "/v1/rootCauses/{rootCause}:deactivate" in document["paths"]
    assert not any("rootCaus}" in path for path in document["paths"])


def test_custom_methods_do_not_ask_for_the_path_fields_in_the_body(document):
    for route in ROUTES.routes:
        if route.body != "*" or route.rpc.client_streaming:
            continue
        path, _ = path_and_parameters(route.template)
        body = document["paths"][path][route.method.lower()]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
        request = route.rpc.descriptor.input_type
        for bound in route.bound_paths:
            json_name = request.fields_by_name[bound].json_name
            assert json_name not in schema.get("properties", {}), (path, bound)
            assert json_name not in schema.get("required", []), (path, bound)


def test_every_operation_declares_its_error_responses(document):
    for item in document["paths"].values():
        for operation in item.values():
            if operation["operationId"].startswith("probe_"):
                continue
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "409", "412", "413", "415", "429", "503"):
                assert responses[status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (operation["operationId"], status)
            assert "Retry-After" in responses["429"]["headers"]
            assert "Retry-After" in responses["503"]["headers"]


def test_message_schemas_refuse_unknown_properties_and_mark_write_only_fields(document):
    schemas = document["components"]["schemas"]
    assert schemas["settle.accounts.v1.Customer"]["additionalProperties"] is False
    assert schemas["settle.escalation.v1.Subscription"]["properties"]["secret"]["writeOnly"] is True
    assert schemas["settle.disputes.v1.Dispute"]["properties"]["firstNote"]["writeOnly"] is True


def test_list_fields_and_resource_ids_declare_what_the_services_accept(stack, document):
    """What Schemathesis found accepted by the schema yet refused by the services: ids in the
    path, negative page sizes, page tokens of another shape, long filters, free-form orders."""
    listing = {
        p["name"]: p["schema"] for p in document["paths"]["/v1/escalations"]["get"]["parameters"]
    }
    assert listing["pageSize"]["minimum"] == 0
    assert listing["filter"]["maxLength"] == 2000
    assert re.fullmatch(listing["orderBy"]["pattern"].strip("^$"), "due_time desc")
    assert not re.search(listing["orderBy"]["pattern"], "drop table x")
    seeded = ok(stack.http.get("/v1/reasonCodes", headers=bearer("admin"), params={"pageSize": 1}))
    token = seeded["nextPageToken"]
    assert re.search(listing["pageToken"]["pattern"], token)
    assert re.search(listing["pageToken"]["pattern"], "")
    get = document["paths"]["/v1/escalations/{escalation}"]["get"]["parameters"]
    assert get[0]["schema"]["pattern"] == "^[0-9a-f]{32}$"
    codes = document["paths"]["/v1/reasonCodes/{reasonCode}:deactivate"]["post"]["parameters"]
    assert "pattern" not in codes[0]["schema"]  # a code, not an id


def test_required_fields_are_non_empty_and_64_bit_integers_are_digits(document):
    schemas = document["components"]["schemas"]
    raise_request = schemas["settle.escalation.v1.RaiseEscalationRequest"]
    assert "subject" in raise_request["required"]
    assert raise_request["properties"]["subject"]["minLength"] == 1  # "" is no subject
    assert "minLength" not in raise_request["properties"]["summary"]
    report = schemas["settle.accounts.v1.ImportReport"]["properties"]["rowsRead"]
    assert re.fullmatch(report["pattern"].strip("^$"), "42")
    assert not re.search(report["pattern"], "")


def test_the_protos_rules_are_declared_as_the_services_check_them(document):
    """The formats issue 17 found undeclared, now declared once in the protos (buf.validate)."""
    schemas = document["components"]["schemas"]
    dispute = schemas["settle.disputes.v1.Dispute"]["properties"]
    assert dispute["customer"]["pattern"] == "^customers/[0-9a-f]{32}$"  # required: no ""
    assert dispute["title"]["maxLength"] == 200
    assert dispute["items"]["maxItems"] == 100
    assert dispute["externalRef"]["maxLength"] == 100
    item = schemas["settle.disputes.v1.DisputedItem"]["properties"]
    assert item["lineNumbers"]["items"]["minimum"] == 1
    invoice = schemas["settle.accounts.v1.Invoice"]["properties"]
    assert re.search(invoice["dueDate"]["pattern"], "2026-02-04")
    assert not re.search(invoice["dueDate"]["pattern"], "2026-13-04")
    assert re.search(invoice["billingAccount"]["pattern"], "")  # optional: empty is unset
    secret = schemas["settle.escalation.v1.Subscription"]["properties"]["secret"]
    assert (secret["minLength"], secret["maxLength"]) == (16, 256)
    plan = schemas["settle.accounts.v1.PromisePlan"]["properties"]
    assert plan["instalments"]["maxItems"] == 36
    strategy = schemas["settle.accounts.v1.WorklistStrategy"]["properties"]
    assert strategy["rules"]["maxItems"] == 100
    query = document["paths"]["/v1/calendars"]["post"]["parameters"]
    calendar = next(p["schema"] for p in query if p["name"] == "calendarId")
    assert re.search(calendar["pattern"], "de-nrw") and not re.search(calendar["pattern"], "DE")
    rule = schemas["settle.escalation.v1.RoutingRule"]["properties"]
    assert (rule["priority"]["minimum"], rule["priority"]["maximum"]) == (0, 10_000)
    assert rule["customerFlag"]["enum"] == ["", "bankruptcy", "in_litigation"]


def test_a_created_resource_links_to_the_operations_that_take_its_id(stack, document):
    create = document["paths"]["/v1/customers"]["post"]["responses"]["200"]["links"]
    get = create["AccountsService_GetCustomer"]
    assert get == {
        "operationId": "AccountsService_GetCustomer",
        "parameters": {"path.customer": "$response.body#/uid"},
        "description": "`uid` of the answer is the `{customer}` of AccountsService_GetCustomer.",
    }
    assert "AccountsService_UpdateCustomer" in create
    dispute = document["paths"]["/v1/disputes"]["post"]["responses"]["200"]["links"]
    assert {"DisputesService_GetDispute", "DisputesService_ResolveDispute"} <= set(dispute)
    read = document["paths"]["/v1/customers/{customer}"]["get"]["responses"]["200"]
    assert "links" not in read  # it takes the id it answers
    # the link tells the truth: the uid it reads is the {customer} the GET takes
    lead = bearer("team_lead", subject="links-lead")
    made = ok(
        stack.http.post(
            "/v1/customers", headers=lead, json={"displayName": "Link GmbH", "countryCode": "DE"}
        )
    )
    assert made["name"] == f"customers/{made['uid']}"
    assert ok(stack.http.get(f"/v1/customers/{made['uid']}", headers=lead))["name"] == made["name"]
