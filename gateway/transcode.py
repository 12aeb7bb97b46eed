"""HTTP/JSON ⇄ protobuf by the protobuf JSON mapping (lowerCamelCase, enums as strings, RFC 3339
timestamps, int64 as strings). A request is assembled as one JSON object — the body (whole, or
under its field), the path variables, the query parameters — and parsed once, strictly: unknown
fields and wrong types are INVALID_ARGUMENT, never ignored."""

from __future__ import annotations

import functools
import json
import re

from google.api import field_behavior_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common import contract
from common.errors import FieldViolation, InvalidArgument
from gateway import fieldpath

# Messages that JSON writes as a string, so a query parameter can carry them.
SCALAR_MESSAGES = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    *(
        f"google.protobuf.{w}Value"
        for w in (
            "Double",
            "Float",
            "Int64",
            "UInt64",
            "Int32",
            "UInt32",
            "Bool",
            "String",
            "Bytes",
        )
    ),
}
UPDATE_MASK = "update_mask"
_PARSING = re.compile(r"Failed to parse (\S+) field: ")
_UNKNOWN = re.compile(r'has no field named "([^"]+)"')
_AT = re.compile(r'\.? at "?[\w.\[\]]+"?\.*$')


def decode_json(raw: bytes) -> object:
    """The body as JSON; an empty body is `None` (no fields set)."""
    if not raw.strip():
        return None
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        detail = str(exc) if isinstance(exc, json.JSONDecodeError) else "not UTF-8 or too deep"
        raise InvalidArgument(
            f"the body is not valid JSON: {detail}", reason="MALFORMED_JSON"
        ) from None
    if payload is None:  # a literal null: leave the body out to send no fields
        raise InvalidArgument.of("body", "must not be null")
    return payload


def _key(node: dict, field: FieldDescriptor) -> str:
    """The key a JSON object uses for `field` (its JSON name or its proto name)."""
    return next((k for k in (field.json_name, field.name) if k in node), field.name)


def _node(data: dict, chain: tuple[FieldDescriptor, ...]) -> dict:
    node = data
    for field in chain[:-1]:
        child = node.setdefault(_key(node, field), {})
        if not isinstance(child, dict):
            raise InvalidArgument.of(fieldpath.proto_path(chain[:-1]), "must be a JSON object")
        node = child
    return node


def _query_value(field: FieldDescriptor, name: str, value: str):
    if field.type == FieldDescriptor.TYPE_BOOL:
        if value not in ("true", "false"):
            raise InvalidArgument.of(name, "must be true or false")
        return value == "true"
    if field.message_type and field.message_type.full_name not in SCALAR_MESSAGES:
        raise InvalidArgument.of(name, "is a message; set its fields instead (a.b=...)")
    return value  # the JSON parser converts numbers, enums and timestamps from strings


def _add_query(data: dict, message: Descriptor, taken: set[str], name: str, value: str) -> None:
    chain = fieldpath.resolve(message, name)
    if chain is None or fieldpath.is_map(chain[-1]):
        raise InvalidArgument(
            f"{name}: is not a query parameter of this method",
            violations=[FieldViolation(name, "is not a query parameter")],
            reason="UNKNOWN_QUERY_PARAMETER",
        )
    path = fieldpath.proto_path(chain)
    if any(path == t or path.startswith(t + ".") for t in taken):
        raise InvalidArgument.of(name, "is set by the path or the body, not the query")
    node, leaf = _node(data, chain), chain[-1]
    converted = _query_value(leaf, name, value)
    if leaf.is_repeated:
        node.setdefault(leaf.name, []).append(converted)
    elif leaf.name in node:
        raise InvalidArgument.of(name, "is given more than once")
    else:
        node[leaf.name] = converted


def _violation(error: Exception) -> FieldViolation:
    """The field path and the innermost reason out of json_format's nested message."""
    text = str(error).split("\n", 1)[0]
    names = _PARSING.findall(text)
    inner = _PARSING.split(text)[-1]
    names += _UNKNOWN.findall(inner)
    description = _AT.sub("", inner).strip().rstrip(".") or "is invalid"
    if len(description) > 200:  # json_format quotes the value; do not echo large input back
        description = description[:200] + "…"
    return FieldViolation(".".join(names) or "body", description)


def build_message(
    cls: type[Message],
    body_field: str,
    payload: object,
    bindings: dict[str, str],
    query: list[tuple[str, str]],
) -> Message:
    """`body_field`: "*" (payload is the whole message), a field name, or "" (no body)."""
    descriptor = cls.DESCRIPTOR
    if body_field == "*":
        if not isinstance(payload, dict | None):
            raise InvalidArgument.of("body", "must be a JSON object")
        data = dict(payload or {})
    elif body_field:
        field = descriptor.fields_by_name[body_field]
        is_object = field.message_type and field.message_type.full_name not in SCALAR_MESSAGES
        if is_object and not field.is_repeated and not isinstance(payload, dict | None):
            raise InvalidArgument.of("body", f"must be a JSON object (a {field.message_type.name})")
        data = {} if payload is None else {body_field: payload}
    elif payload is not None:
        raise InvalidArgument.of("body", "this method takes no body; use query parameters")
    else:
        data = {}
    for path, value in bindings.items():
        chain = fieldpath.resolve(descriptor, path)
        node = _node(data, chain)
        node.pop(chain[-1].json_name, None)  # the path wins over the body
        node[chain[-1].name] = value
    taken = {*bindings, body_field} if body_field != "*" else {f.name for f in descriptor.fields}
    for name, value in query:
        _add_query(data, descriptor, taken, name, value)
    nulls = list(_nulls(data, ""))
    if nulls:
        raise InvalidArgument(
            f"{nulls[0]}: must not be null",
            violations=[FieldViolation(n, "must not be null") for n in nulls],
            reason="INVALID_FIELD",
        )
    try:
        message = json_format.ParseDict(data, cls(), ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        violation = _violation(exc)
        raise InvalidArgument(
            f"{violation.field}: {violation.description}",
            violations=[violation],
            reason="INVALID_FIELD",
        ) from None
    _mask_to_proto_names(message)
    contract.check(message)
    return message


def _nulls(value: object, path: str):
    """Where a JSON null stands: refused, as the OpenAPI types say, though the protobuf mapping
    would read it as "unset" (a client that means unset leaves the field out)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nulls(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nulls(item, f"{path}[{i}]")
    elif value is None:
        yield path or "body"


def _mask_to_proto_names(message: Message) -> None:
    """`update_mask` (a comma-separated string) may name fields by their JSON names (AIP-161);
    the services receive proto names. Paths are resolved against the resource, the request's
    message field; a path that names nothing is left as given, for the service to refuse."""
    descriptor = message.DESCRIPTOR
    mask = descriptor.fields_by_name.get(UPDATE_MASK)
    resource = next((f for f in descriptor.fields if f.message_type is not None), None)
    if mask is None or mask.type != FieldDescriptor.TYPE_STRING or resource is None:
        return
    paths = []
    for given in getattr(message, UPDATE_MASK).split(","):
        chain = fieldpath.resolve(resource.message_type, given.strip())
        paths.append(fieldpath.proto_path(chain) if chain else given)
    setattr(message, UPDATE_MASK, ",".join(paths))


def to_json(message: Message) -> dict:
    """Every field, set or not (predictable shapes for clients); unset sub-messages are omitted,
    and so are INPUT_ONLY fields (a secret or a first note is written, never read back)."""
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    _drop_input_only(message.DESCRIPTOR, data)
    return data


@functools.cache
def _input_only(descriptor: Descriptor) -> tuple[str, ...]:
    return tuple(
        f.json_name
        for f in descriptor.fields
        if field_behavior_pb2.INPUT_ONLY
        in f.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    )


def _drop_input_only(descriptor: Descriptor, data: dict) -> None:
    for name in _input_only(descriptor):
        data.pop(name, None)
    for field in descriptor.fields:
        value = data.get(field.json_name)
        if field.message_type is None or fieldpath.is_map(field) or value is None:
            continue
        for item in value if field.is_repeated else [value]:
            if isinstance(item, dict):
                _drop_input_only(field.message_type, item)
