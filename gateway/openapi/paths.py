"""Paths and parameters of operations. OpenAPI path parameters cannot hold a '/', so a variable
such as `{name=customers/*}` becomes the literal `customers/` and a parameter `{customer}`, named
after the collection before it."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway import fieldpath
from gateway.openapi.schemas import Schemas
from gateway.routing import PathTemplate, Route, Variable
from gateway.transcode import SCALAR_MESSAGES

WILDCARDS = ("*", "**")
MAX_QUERY_DEPTH = 3  # a.b.c: deeper (or recursive) messages go in a body, not a query
# Collections whose resource ids the services require in common.ids' form (parse_name,
# validation.resource_id): their path parameters declare it. Code lists, policies, calendars and
# strategies take other keys, so their parameters stay plain strings.
ID_COLLECTIONS = frozenset(
    {
        "artefacts",
        "billingAccounts",
        "customers",
        "deliveries",
        "disputes",
        "escalations",
        "events",
        "invoices",
        "notices",
        "promises",
        "reportSchedules",
        "routingRules",
        "subscriptions",
    }
)
ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{32}$"}


def _singular(collection: str) -> str:
    """Good enough for resource collections: slaPolicies, deliveries, addresses, customers,
    rootCauses (not "rootCaus"), statuses."""
    endings = (("ies", "y"), ("sses", "ss"), ("auses", "ause"), ("uses", "us"), ("s", ""))
    for plural, single in endings:
        if collection.endswith(plural) and len(collection) > len(plural):
            return collection[: -len(plural)] + single
    return collection


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


def _variable(variable: Variable, names: set[str]) -> tuple[list[str], list[dict]]:
    parts, params, previous = [], [], ""
    for segment in variable.segments:
        if segment not in WILDCARDS:
            parts.append(segment)
            previous = segment
            continue
        name = _unique(_singular(previous) or variable.field_path.split(".")[-1], names)
        parts.append("{" + name + "}")
        schema = dict(ID_SCHEMA) if previous in ID_COLLECTIONS else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for param in params:
        param["description"] = (
            f"Part of the request's `{variable.field_path}`: `{'/'.join(parts)}`."
        )
    return parts, params


def path_and_parameters(template: PathTemplate) -> tuple[str, list[dict]]:
    parts, params, names = [], [], set()
    for segment in template.segments:
        if isinstance(segment, Variable):
            more_parts, more_params = _variable(segment, names)
            parts += more_parts
            params += more_params
        elif segment in WILDCARDS:  # a wildcard outside a variable: matched, then ignored
            name = _unique("segment", names)
            parts.append("{" + name + "}")
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
        else:
            parts.append(segment)
    return "/" + "/".join(parts) + (f":{template.verb}" if template.verb else ""), params


def _flatten(
    message: Descriptor,
    prefix: str,
    proto_prefix: str,
    taken: set[str],
    schemas: Schemas,
    depth: int,
    skip_bytes: bool,
):
    for field in message.fields:
        proto = proto_prefix + field.name
        if proto in taken or fieldpath.is_map(field):
            continue
        if field.message_type and field.message_type.full_name not in SCALAR_MESSAGES:
            if not field.is_repeated and depth < MAX_QUERY_DEPTH:
                yield from _flatten(
                    field.message_type,
                    f"{prefix}{field.json_name}.",
                    f"{proto}.",
                    taken,
                    schemas,
                    depth + 1,
                    skip_bytes,
                )
            continue
        if skip_bytes and field.type == FieldDescriptor.TYPE_BYTES:
            continue
        yield {
            "name": prefix + field.json_name,
            "in": "query",
            "required": False,
            "schema": schemas.field(field),
        }


def query_parameters(route: Route, schemas: Schemas) -> list[dict]:
    """Every request field the path and body leave, as `a.b` names; for client streams, the
    first message's fields that go with a raw body."""
    rpc = route.rpc
    if route.body == "*" and not rpc.client_streaming:
        return []
    taken = {*route.bound_paths} | ({route.body} if route.body not in ("", "*") else set())
    return list(
        _flatten(rpc.descriptor.input_type, "", "", taken, schemas, 0, rpc.client_streaming)
    )
