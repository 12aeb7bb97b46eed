"""HTTP/JSON ⇄ protobuf by the protobuf JSON mapping, strictly: what the body, path and query
may carry, and how output looks."""

from __future__ import annotations

import json

import pytest
from google.protobuf import timestamp_pb2

from common.errors import InvalidArgument
from gateway.transcode import build_message, decode_json, to_json
from settle.accounts.v1 import accounts_pb2 as pb
from settle.escalation.v1 import escalation_pb2 as esc

ID = "0" * 32


def _fields(error: InvalidArgument) -> list[str]:
    return [v.field for v in error.violations]


def test_a_body_field_path_variable_and_query_parameter_make_one_request():
    message = build_message(
        pb.UpdateCustomerRequest,
        "customer",
        {"displayName": "Acme", "riskClass": "HIGH"},
        {"customer.name": f"customers/{ID}"},
        [("updateMask", "display_name,risk_class")],
    )
    assert message.customer.name == f"customers/{ID}"
    assert message.customer.risk_class == pb.HIGH
    assert message.update_mask == "display_name,risk_class"


def test_the_path_wins_over_the_body():
    message = build_message(
        esc.ClaimEscalationRequest,
        "*",
        {"name": "escalations/other", "etag": "e1"},
        {"name": f"escalations/{ID}"},
        [],
    )
    assert message.name == f"escalations/{ID}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("pageSize", "5"), ("page_token", "t")], {"page_size": 5, "page_token": "t"}),
        (
            [("asOf", "2026-01-31"), ("byCustomer", "true")],
            {"as_of": "2026-01-31", "by_customer": True},
        ),
    ],
)
def test_query_parameters_by_json_or_proto_name(query, expected):
    cls = pb.ListCustomersRequest if "pageSize" in dict(query) else pb.GetAgingReportRequest
    message = build_message(cls, "", None, {}, query)
    assert {f.name: v for f, v in message.ListFields()} == expected


def test_nested_and_enum_query_parameters():
    message = build_message(
        esc.WatchEscalationsRequest, "", None, {}, [("team", "LEGAL"), ("cursor", "42")]
    )
    assert (message.team, message.cursor) == (esc.LEGAL, "42")
    raise_request = build_message(
        pb.CreateCustomerRequest, "customer", {"displayName": "x"}, {}, [("requestId", "r-1")]
    )
    assert raise_request.request_id == "r-1"


@pytest.mark.parametrize(
    ("cls", "body_field", "payload", "query", "field"),
    [
        (
            pb.CreateCustomerRequest,
            "customer",
            {"displayName": "x", "colour": 1},
            [],
            "customer.colour",
        ),
        (pb.CreateCustomerRequest, "customer", {"displayName": 5}, [], "customer.displayName"),
        (pb.CreateCustomerRequest, "customer", {"riskClass": "EXTREME"}, [], "customer.riskClass"),
        (
            pb.CreateCustomerRequest,
            "customer",
            {"createTime": "yesterday"},
            [],
            "customer.createTime",
        ),
        (pb.CreateCustomerRequest, "customer", {"bankruptcy": "yes"}, [], "customer.bankruptcy"),
        (pb.CreateCustomerRequest, "customer", [1, 2], [], "body"),
        (pb.ListCustomersRequest, "", None, [("pageSize", "ten")], "page_size"),
        (pb.ListCustomersRequest, "", None, [("pageSize", "99999999999")], "page_size"),
        (pb.ListCustomersRequest, "", None, [("colour", "red")], "colour"),
        (pb.ListCustomersRequest, "", None, [("pageSize", "1"), ("pageSize", "2")], "pageSize"),
        (pb.ListCustomersRequest, "", {"pageSize": 1}, [], "body"),
        (pb.GetAgingReportRequest, "", None, [("byCustomer", "yes")], "byCustomer"),
        (
            pb.CreateCustomerRequest,
            "customer",
            {},
            [("customer.displayName", "x")],
            "customer.displayName",
        ),
        (esc.ClaimEscalationRequest, "*", {}, [("etag", "e")], "etag"),
        # null is not "unset" here: the document's types have no null (was accepted)
        (pb.CreateCustomerRequest, "customer", {"displayName": None}, [], "customer.displayName"),
        (pb.CreateCustomerRequest, "customer", {"contacts": [None]}, [], "customer.contacts[0]"),
        (esc.ClaimEscalationRequest, "*", {"etag": None}, [], "etag"),
    ],
)
def test_wrong_input_is_invalid_argument_naming_the_field(cls, body_field, payload, query, field):
    with pytest.raises(InvalidArgument) as info:
        build_message(cls, body_field, payload, {}, query)
    assert field in _fields(info.value), info.value.message


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[" * 100_000, b"{'single': 'quotes'}"])
def test_malformed_json_is_invalid_argument(raw):
    with pytest.raises(InvalidArgument) as info:
        decode_json(raw)
    assert info.value.reason == "MALFORMED_JSON"


def test_an_echoed_value_is_bounded():
    with pytest.raises(InvalidArgument) as info:
        build_message(
            pb.CreateCustomerRequest, "customer", {"contacts": {"x": "y" * 10_000}}, {}, []
        )
    assert len(info.value.message) < 400


def test_output_follows_the_protobuf_json_mapping():
    invoice = pb.Invoice(
        name=f"invoices/{ID}",
        status=pb.OPEN,
        create_time=timestamp_pb2.Timestamp(seconds=1_772_441_400),
    )
    report = to_json(pb.ImportReport(rows_read=3))
    out = to_json(invoice)
    assert out["name"] == f"invoices/{ID}"
    assert out["status"] == "OPEN"  # enums as strings
    assert out["createTime"] == "2026-03-02T08:50:00Z"  # RFC 3339
    assert out["externalNumber"] == "" and out["holds"] == []  # every field, lowerCamelCase
    assert report["rowsRead"] == "3"  # int64 as a string
    json.dumps(out)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("displayName,riskClass", "display_name,risk_class"),  # JSON names (AIP-161)
        ("display_name,risk_class", "display_name,risk_class"),  # proto names
        ("displayName, risk_class", "display_name,risk_class"),  # mixed, with a space
        ("colour", "colour"),  # names nothing: left for the service to refuse
    ],
)
def test_update_mask_reaches_the_service_in_proto_names(given, expected):
    message = build_message(pb.UpdateCustomerRequest, "customer", {}, {}, [("updateMask", given)])
    assert message.update_mask == expected


def test_a_nested_update_mask_path_in_json_names():
    message = build_message(
        esc.UpdateRoutingRuleRequest, "routing_rule", {}, {}, [("updateMask", "minAmount.amount")]
    )
    assert message.update_mask == "min_amount.amount"


def test_input_only_fields_are_never_written_back():
    from settle.disputes.v1 import disputes_pb2 as dpb

    subscription = to_json(esc.Subscription(name="subscriptions/x", secret="s" * 20))
    assert "secret" not in subscription and subscription["name"] == "subscriptions/x"
    assert "secret" not in to_json(esc.Subscription())  # not even as ""
    dispute = to_json(dpb.Dispute(name="disputes/x", first_note="hello"))
    assert "firstNote" not in dispute and dispute["name"] == "disputes/x"
    listed = to_json(esc.ListSubscriptionsResponse(subscriptions=[esc.Subscription(secret="s")]))
    assert "secret" not in listed["subscriptions"][0]


def test_a_null_body_is_refused_and_an_empty_one_sends_no_fields():
    assert decode_json(b"  ") is None
    with pytest.raises(InvalidArgument) as info:
        decode_json(b"null")
    assert _fields(info.value) == ["body"]
