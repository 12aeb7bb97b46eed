"""JSON Schemas (OpenAPI 3.1) for messages and enums, as the protobuf JSON mapping writes them:
lowerCamelCase properties, enums as strings, 64-bit integers as strings, timestamps RFC 3339."""

from __future__ import annotations

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from common.contract_rules import ValueRules, rules_of
from common.listing import ORDER_BY_PATTERN, PAGE_TOKEN_PATTERN
from gateway import fieldpath

REF = "#/components/schemas/"
_T = FieldDescriptor
# 64-bit integers travel as decimal strings (the protobuf JSON mapping): their digits only.
_INT64 = r"^-?[0-9]{1,19}$"
_UINT64 = r"^[0-9]{1,20}$"
_SCALARS = {
    _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _T.TYPE_FLOAT: {"type": "number", "format": "float"},
    _T.TYPE_INT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _T.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    _T.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    _T.TYPE_INT64: {"type": "string", "format": "int64", "pattern": _INT64},
    _T.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": _INT64},
    _T.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": _INT64},
    _T.TYPE_UINT64: {"type": "string", "format": "uint64", "pattern": _UINT64},
    _T.TYPE_FIXED64: {"type": "string", "format": "uint64", "pattern": _UINT64},
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WRAPPED = {
    "Double": _T.TYPE_DOUBLE,
    "Float": _T.TYPE_FLOAT,
    "Int64": _T.TYPE_INT64,
    "UInt64": _T.TYPE_UINT64,
    "Int32": _T.TYPE_INT32,
    "UInt32": _T.TYPE_UINT32,
    "Bool": _T.TYPE_BOOL,
    "String": _T.TYPE_STRING,
    "Bytes": _T.TYPE_BYTES,
}


def _nullable(kind: int) -> dict:
    schema = dict(_SCALARS[kind])
    return {**schema, "type": [schema["type"], "null"]}


WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?\d+(\.\d{1,9})?s$",
        "description": 'Seconds with an "s" suffix, e.g. "3.5s".',
    },
    "google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated field paths."},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    **{f"google.protobuf.{name}Value": _nullable(kind) for name, kind in _WRAPPED.items()},
}
# AIP-132/158 fields, the same in every List request: what every service accepts of them.
LIST_REQUEST_FIELDS = {
    "page_size": {"minimum": 0},
    "page_token": {"pattern": PAGE_TOKEN_PATTERN},
    "order_by": {"pattern": ORDER_BY_PATTERN},
}


def _behaviours(field: FieldDescriptor) -> set[int]:
    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


class Schemas:
    """Collects the components that the operations refer to, each once, by full name."""

    def __init__(self, comments: dict[str, str]):
        self.comments = comments
        self.components: dict[str, dict] = {}

    def _described(self, schema: dict, full_name: str) -> dict:
        text = self.comments.get(full_name)
        return {**schema, "description": text} if text else schema

    def message(self, descriptor: Descriptor) -> dict:
        """A reference to the message's schema (inline for the well-known types)."""
        if descriptor.full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[descriptor.full_name])
        if descriptor.full_name not in self.components:
            self.components[descriptor.full_name] = {}  # placeholder: recursive messages end here
            self.components[descriptor.full_name] = self._message_schema(descriptor)
        return {"$ref": REF + descriptor.full_name}

    def enum(self, descriptor: EnumDescriptor) -> dict:
        if descriptor.full_name not in self.components:
            values = "\n".join(
                f"- `{v.name}`: {self.comments[f'{descriptor.full_name}.{v.name}']}"
                for v in descriptor.values
                if f"{descriptor.full_name}.{v.name}" in self.comments
            )
            text = "\n\n".join(t for t in (self.comments.get(descriptor.full_name), values) if t)
            schema = {"type": "string", "enum": [v.name for v in descriptor.values]}
            self.components[descriptor.full_name] = {
                **schema,
                **({"description": text} if text else {}),
            }
        return {"$ref": REF + descriptor.full_name}

    def _message_schema(self, descriptor: Descriptor) -> dict:
        properties, required = {}, []
        for field in descriptor.fields:
            properties[field.json_name] = self.field(field)
            if field_behavior_pb2.REQUIRED in _behaviours(field):
                required.append(field.json_name)
        # Strict as the transcoder: an unknown field is refused, never ignored.
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        return self._described(schema, descriptor.full_name)

    def single(self, field: FieldDescriptor) -> dict:
        """The schema of one value of the field (an element, for a repeated field)."""
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict:
        behaviours = _behaviours(field)
        # The contract the services and the gateway check (common/contract.py), except where
        # callers never write.
        rules = None if field_behavior_pb2.OUTPUT_ONLY in behaviours else rules_of(field)
        # a required value is never the unset one, whatever its rules let through
        zero = field_behavior_pb2.REQUIRED not in behaviours
        if fieldpath.is_map(field):
            value = self.single(field.message_type.fields_by_name["value"])
            schema = {"type": "object", "additionalProperties": value}
            if rules is not None:
                schema["additionalProperties"] = _constrained(value, rules.value)
                schema["maxProperties"] = rules.max_items
                schema["propertyNames"] = _constrained({}, rules.key)
        elif field.is_repeated:
            schema = {"type": "array", "items": self.single(field)}
            if rules is not None:
                schema["items"] = _constrained(schema["items"], rules.value)
                schema["maxItems"] = rules.max_items
                if rules.min_items:
                    schema["minItems"] = rules.min_items
        else:
            schema = self.single(field)
            if rules is not None:
                schema = _constrained(schema, rules.value, zero)
            if field.containing_type.name.endswith("Request"):
                schema.update(LIST_REQUEST_FIELDS.get(field.name, {}))
        if field_behavior_pb2.OUTPUT_ONLY in behaviours:
            schema["readOnly"] = True
        if field_behavior_pb2.REQUIRED in behaviours:
            # In proto3 an empty value is an absent one: a required field is a non-empty one.
            if schema.get("type") == "array":
                schema["minItems"] = max(1, schema.get("minItems", 1))
            elif schema.get("type") == "string" and "format" not in schema:
                schema["minLength"] = max(1, schema.get("minLength", 1))
        if field_behavior_pb2.INPUT_ONLY in behaviours:
            schema["writeOnly"] = True
        return self._described(schema, field.full_name)


def _constrained(schema: dict, rules: ValueRules, zero: bool = True) -> dict:
    """The schema with the value's rules as JSON Schema says them. A rule that lets the zero
    value through (`IGNORE_IF_ZERO_VALUE`: "" or 0 means unset) lets it through here too, unless
    the field is required (`zero` False)."""
    if "$ref" in schema:
        return schema  # a message or an enum: its own schema holds its rules
    schema = dict(schema)
    skip_zero = rules.ignore_zero and zero
    if rules.max_chars is not None:
        schema["maxLength"] = rules.max_chars
    if rules.min_chars is not None and not skip_zero:
        schema["minLength"] = rules.min_chars
    if rules.pattern is not None:
        schema["pattern"] = f"^$|{rules.pattern}" if skip_zero else rules.pattern
    if rules.choices:
        schema["enum"] = ["", *rules.choices] if skip_zero else list(rules.choices)
    if schema.get("type") != "integer":  # 64-bit integers are strings in JSON: no range there
        return schema
    if rules.minimum is not None and not (skip_zero and rules.minimum > 0):
        schema["minimum"] = rules.minimum
    if rules.maximum is not None and not (skip_zero and rules.maximum < 0):
        schema["maximum"] = rules.maximum
    return schema
