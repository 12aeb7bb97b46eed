"""The request contract read from the protos' protovalidate rules (common/contract.py): what it
refuses, by which path, with which reason; what it lets through; and that a rule it cannot read
stops the build instead of being ignored."""

from __future__ import annotations

import pytest
from buf.validate import validate_pb2
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    field_mask_pb2,
    message_factory,
    timestamp_pb2,
)

from common import contract, contract_rules
from common.errors import InvalidArgument
from settle.accounts.v1 import accounts_pb2
from settle.disputes.v1 import disputes_pb2
from settle.escalation.v1 import escalation_pb2

ID = "0123456789abcdef0123456789abcdef"


def _dispute(**fields) -> disputes_pb2.CreateDisputeRequest:
    values = {
        "customer": f"customers/{ID}",
        "title": "Price differs",
        "reason_code": "PRICING",
        "items": [disputes_pb2.DisputedItem(invoice=f"invoices/{ID}", line_numbers=[1])],
        **fields,
    }
    return disputes_pb2.CreateDisputeRequest(dispute=disputes_pb2.Dispute(**values))


def test_a_request_within_its_rules_passes():
    contract.check(_dispute())
    contract.check(_dispute(reason_code="pricing"))  # the service upper-cases codes


def test_every_broken_rule_is_named_by_its_path():
    request = _dispute(
        customer="customers/42",
        title="x" * 201,
        items=[disputes_pb2.DisputedItem(invoice="inv-1", line_numbers=[0])],
    )
    with pytest.raises(InvalidArgument) as refused:
        contract.check(request)
    assert refused.value.reason == "INVALID_FIELD"
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("dispute.customer", "must look like customers/{id}"),
        ("dispute.title", "must be at most 200 characters"),
        ("dispute.items[0].invoice", "must look like invoices/{id}"),
        ("dispute.items[0].line_numbers[0]", "must be at least 1"),
    ]


def test_sizes_alone_are_out_of_bounds_and_unannotated_fields_keep_the_default_ceiling():
    request = _dispute(coordinator="ok", first_note="n" * 10_001)
    request.dispute.items.extend(request.dispute.items[0] for _ in range(100))
    with pytest.raises(InvalidArgument) as refused:
        contract.check(request)
    assert refused.value.reason == "OUT_OF_BOUNDS"
    assert [v.field for v in refused.value.violations] == ["dispute.items", "dispute.first_note"]
    unannotated = disputes_pb2.AddEvidenceRequest(
        parent=f"disputes/{ID}",
        evidence=disputes_pb2.Evidence(
            uri="https://files.example/pod.pdf",
            description="d" * (contract_rules.DEFAULT_MAX_CHARS + 1),
        ),
    )
    assert [v.field for v in contract.violations(unannotated)] == ["evidence.description"]


def test_an_empty_optional_value_is_unset_but_a_required_one_is_missing():
    assert contract.violations(_dispute(external_ref="", coordinator="")) == []
    assert [(v.field, v.description) for v in contract.violations(_dispute(customer=""))] == [
        ("dispute.customer", "is required")
    ]
    subscription = escalation_pb2.Subscription(
        endpoint_uri="https://hooks.example/settle", team=escalation_pb2.GBS, secret="short"
    )
    request = escalation_pb2.CreateSubscriptionRequest(subscription=subscription)
    assert [(v.field, v.description) for v in contract.violations(request)] == [
        ("subscription.secret", "must be at least 16 characters")
    ]


def test_an_update_requires_only_what_its_mask_names():
    """AIP-134: the resource of an update request need not carry its required fields."""
    patch = accounts_pb2.UpdateCustomerRequest(
        customer=accounts_pb2.Customer(name=f"customers/{ID}", external_ref="C-1"),
        update_mask="external_ref",
    )
    assert contract.violations(patch) == []
    create = accounts_pb2.CreateCustomerRequest(customer=accounts_pb2.Customer(external_ref="C-1"))
    assert [v.field for v in contract.violations(create)] == ["customer.display_name"]


def test_no_string_may_hold_a_nul_character():
    found = contract.violations(_dispute(external_ref="ref\x00"))
    assert [(v.field, v.description) for v in found] == [
        ("dispute.external_ref", "must not contain NUL characters")
    ]


def test_a_batch_item_is_left_to_its_service_to_answer_alone():
    bad = escalation_pb2.RaiseEscalationRequest(subject="nothing", reason_code="lower")
    batch = escalation_pb2.RaiseEscalationsRequest(
        items=[escalation_pb2.RaiseEscalationsRequest.Item(request=bad)]
    )
    assert contract.violations(batch) == []
    assert [v.field for v in contract.violations(bad)] == ["subject", "reason_code"]


def test_maps_ranges_and_choices():
    request = escalation_pb2.RaiseEscalationRequest(
        subject=f"disputes/{ID}",
        reason_code="SLA_BREACH",
        attributes={"Bad Key": "v", "clock": "c" * 501},
    )
    assert sorted(v.field for v in contract.violations(request)) == [
        "attributes[Bad Key]",
        "attributes[clock]",
    ]
    rule = escalation_pb2.RoutingRule(
        priority=10_001, customer_flag="vip", team=escalation_pb2.GBS, severity=escalation_pb2.HIGH
    )
    found = contract.violations(escalation_pb2.CreateRoutingRuleRequest(routing_rule=rule))
    assert [(v.field, v.description) for v in found] == [
        ("routing_rule.priority", "must be at most 10000"),
        ("routing_rule.customer_flag", "must be one of bankruptcy, in_litigation"),
    ]


def test_a_pattern_ends_where_the_value_ends_as_in_re2():
    """Python's `$` also matches before a final newline; protovalidate's (RE2) does not."""
    found = contract.violations(_dispute(customer=f"customers/{ID}\n"))
    assert [v.field for v in found] == ["dispute.customer"]


def test_output_only_fields_are_not_checked():
    customer = accounts_pb2.Customer(display_name="Acme", name="anything at all", uid="?")
    assert contract.violations(accounts_pb2.CreateCustomerRequest(customer=customer)) == []


def test_a_rule_the_reader_does_not_know_stops_the_build():
    pool = descriptor_pool.DescriptorPool()
    for dependency in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2, validate_pb2):
        pool.AddSerializedFile(dependency.DESCRIPTOR.serialized_pb)
    options = descriptor_pb2.FieldOptions()
    options.Extensions[validate_pb2.field].string.email = True
    file = descriptor_pb2.FileDescriptorProto(
        name="contract_test.proto",
        package="contract_test",
        syntax="proto3",
        dependency=["buf/validate/validate.proto"],
    )
    file.message_type.add(name="Signup").field.add(
        name="email",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        options=options,
    )
    pool.Add(file)
    signup = message_factory.GetMessageClass(pool.FindMessageTypeByName("contract_test.Signup"))
    with pytest.raises(ValueError, match="email"):
        contract.build([signup.DESCRIPTOR])


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (
            "^-?[0-9]+([.][0-9]+)?$",
            "not a plain decimal amount (digits and a decimal point: 1234.50)",
        ),
        ("^customers/[0-9a-f]{32}$", "must look like customers/{id}"),
        (
            "^(payments|creditNotes)/[0-9a-f]{32}$",
            "must look like payments/{id} or creditNotes/{id}",
        ),
        ("^[a-z]+-only$", "must match ^[a-z]+-only$"),
    ],
)
def test_a_pattern_reads_as_words_a_person_understands(pattern, words):
    """A form shows these under the field: a person is told what to type, not a regex."""
    assert contract_rules.pattern_words(pattern) == words


def test_every_declared_pattern_reads_as_words():
    """A pattern added to the protos without words is caught here: give it words in
    common/contract.py."""
    quoted = set()
    for module in (accounts_pb2, disputes_pb2, escalation_pb2):
        pending = list(module.DESCRIPTOR.message_types_by_name.values())
        while pending:
            message = pending.pop()
            pending.extend(message.nested_types)
            for f in message.fields:
                pattern = contract_rules.rules_of(f).value.pattern
                if pattern and contract_rules.pattern_words(pattern).startswith("must match"):
                    quoted.add(pattern)
    assert not quoted, sorted(quoted)


def test_text_bounds_the_services_store_are_declared_where_callers_read_them():
    """The widths of the columns behind these fields used to be checked only in the servicers (a
    201-character reason code name reached PostgreSQL's varchar(200) as a 500); the protos declare
    them now, so the contract refuses them first and the OpenAPI document shows them."""
    reason = disputes_pb2.ReasonCode(code="PRICING", display_name="n" * 201, x12_code="123456789")
    found = contract.violations(disputes_pb2.CreateReasonCodeRequest(reason_code=reason))
    assert [(v.field, v.description) for v in found] == [
        ("reason_code.display_name", "must be at most 200 characters"),
        ("reason_code.x12_code", "must be at most 8 characters"),
    ]
    write_off = accounts_pb2.WriteOff(evidence=["e" * 501])
    found = contract.violations(accounts_pb2.CreateWriteOffRequest(write_off=write_off))
    assert ("write_off.evidence[0]", "must be at most 500 characters") in [
        (v.field, v.description) for v in found
    ]
    answer = disputes_pb2.ApplyEscalationAnswerRequest(team="T" * 201, answered_by="u" * 201)
    assert [v.field for v in contract.violations(answer)] == ["team", "answered_by"]


@pytest.mark.parametrize(
    ("secret", "refused"), [("short", True), ("x" * 257, True), ("x" * 16, False)]
)
def test_a_webhook_secret_is_16_to_256_characters(secret, refused):
    subscription = escalation_pb2.Subscription(secret=secret)
    found = contract.violations(escalation_pb2.CreateSubscriptionRequest(subscription=subscription))
    assert ("subscription.secret" in [v.field for v in found]) is refused
