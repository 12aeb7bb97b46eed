"""The ceiling on every request field: how many entries a repeated field (or map) may hold and how
long a string may be. Declared once, in the table below, enforced by the gateway on every call it
forwards (HTTP and gRPC) before a backend sees it, and written into the OpenAPI document
(`maxItems`, `maxLength`, `maxProperties`) from the same functions. The services keep their own
field rules, usually tighter; these bounds are what no field lacks (issue 17: 10,000 reason codes
on one SLA policy were stored). Output-only fields are not bounded: callers never set them.
"""

from __future__ import annotations

from google.api import field_behavior_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from common.errors import FieldViolation, InvalidArgument
from common.listing import MAX_FILTER_CHARS
from gateway import fieldpath

# Above the largest legitimate value any service accepts (a note of 10,000 characters; a bulk
# reassignment of 10,000 customers has its own line below).
MAX_ITEMS = 1000
MAX_CHARS = 10_000
# Fields whose bound differs from the defaults, by full proto name.
ITEMS: dict[str, int] = {
    "settle.accounts.v1.BulkReassignCustomersRequest.customers": 10_000,
    "settle.disputes.v1.SlaPolicy.reason_codes": 100,
    "settle.disputes.v1.SlaPolicy.priorities": 10,
    "settle.disputes.v1.SlaPolicy.risk_classes": 20,
    "settle.disputes.v1.Calendar.working_hours": 7,
    "settle.disputes.v1.Calendar.extra_holidays": 366,
    "settle.disputes.v1.Calendar.extra_working_days": 366,
    "settle.escalation.v1.ProvideEscalationInfoRequest.evidence_links": 20,
    "settle.escalation.v1.RespondToEscalationRequest.evidence_links": 20,
    "settle.escalation.v1.HandBackEscalationRequest.evidence_links": 20,
    "settle.escalation.v1.ResolveEscalationRequest.evidence_links": 20,
}
CHARS: dict[str, int] = {}


def bounded(field: FieldDescriptor) -> bool:
    behaviours = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.OUTPUT_ONLY not in behaviours


def max_items(field: FieldDescriptor) -> int | None:
    """How many entries the repeated field or map may hold; None for a single value."""
    return ITEMS.get(field.full_name, MAX_ITEMS) if field.is_repeated else None


def max_chars(field: FieldDescriptor) -> int | None:
    """How long (in characters, as JSON Schema counts) one string value may be."""
    if field.type != FieldDescriptor.TYPE_STRING:
        return None
    if field.name == "filter":  # every List's filter, as common/listing.py parses it
        return MAX_FILTER_CHARS
    return CHARS.get(field.full_name, MAX_CHARS)


def check(message: Message) -> None:
    """INVALID_ARGUMENT with every field over its bound, named by its proto path."""
    found: list[FieldViolation] = []
    _walk(message, "", found)
    if found:
        raise InvalidArgument(
            f"{found[0].field}: {found[0].description}", violations=found, reason="OUT_OF_BOUNDS"
        )


def _walk(message: Message, prefix: str, found: list[FieldViolation]) -> None:
    for field, value in message.ListFields():
        if not bounded(field):
            continue
        path = f"{prefix}{field.name}"
        limit = max_items(field)
        if limit is not None and len(value) > limit:
            found.append(FieldViolation(path, f"must have at most {limit} entries"))
            continue
        if fieldpath.is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            for key, item in value.items():
                _one(field.message_type.fields_by_name["key"], key, f"{path}[{key!r}]", found)
                _one(value_field, item, f"{path}[{key!r}]", found)
        elif field.is_repeated:
            for i, item in enumerate(value):
                _one(field, item, f"{path}[{i}]", found)
        else:
            _one(field, value, path, found)


def _one(field: FieldDescriptor, value, path: str, found: list[FieldViolation]) -> None:
    if field.message_type is not None:
        _walk(value, f"{path}.", found)
        return
    limit = max_chars(field)
    if limit is not None and len(value) > limit:
        found.append(FieldViolation(path, f"must be at most {limit} characters"))
