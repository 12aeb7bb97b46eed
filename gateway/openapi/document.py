"""The OpenAPI 3.1 document: one operation per HTTP route, generated from the route table, the
message descriptors, the protos' comments and the access table. Built once, when first asked for."""

from __future__ import annotations

import asyncio
from pathlib import Path

from google.api import httpbody_pb2

from gateway.access import ACCESS
from gateway.openapi.comments import load_comments
from gateway.openapi.links import links
from gateway.openapi.paths import path_and_parameters, query_parameters
from gateway.openapi.schemas import Schemas
from gateway.routing import Route, RouteTable

HTTP_BODY = httpbody_pb2.HttpBody.DESCRIPTOR.full_name  # a file, not JSON

ERROR_REF = {"$ref": "#/components/responses/Error"}
# What any operation may answer besides 200 (docs/gateway.md, "Errors"), each with the error body.
ERROR_STATUSES = {
    400: "Invalid argument: a field violation names the field (google.rpc.BadRequest). A request "
    "the HTTP server cannot parse at all (e.g. a request line too long) is refused in plain text.",
    401: "Not authenticated: the credentials are missing, malformed, expired or invalid.",
    403: "Not allowed: the caller's roles or team do not permit this.",
    404: "Not found (also another team's resource, and an unknown route).",
    409: "Conflict: already exists, a stale etag (re-read and retry), or the wrong state.",
    412: "Precondition failed: a conditional request header that does not hold.",
    413: "The body is larger than the gateway accepts.",
    415: "The body is not JSON in UTF-8 (or, for imports, not text/csv or octet-stream).",
    429: "Over the caller's rate or concurrency limit: wait `Retry-After` seconds.",
    503: "A backend or its database is unavailable: retry after `Retry-After` seconds.",
}


def _error_response(status: int) -> dict:
    response = {
        "description": ERROR_STATUSES[status],
        "content": _json({"$ref": "#/components/schemas/Error"}),
    }
    if status == 400:  # the HTTP server's own refusal of a malformed request line or header
        response["content"]["text/plain"] = {"schema": {"type": "string"}}
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response


INTRODUCTION = """\
The HTTP/JSON API of Settle, generated from the service protos. Requests and responses follow the
protobuf JSON mapping: lowerCamelCase fields, enums as strings, 64-bit integers and money amounts
as strings, timestamps in RFC 3339. Unknown fields and query parameters are refused (400), never
ignored. Authenticate with a bearer JWT (`Authorization: Bearer …`) or a service account's API key
(`X-Api-Key`); `x-roles` on each operation lists the roles that may call it. Errors are
`{"error": {"code", "status", "message", "details"}}` (google.rpc.Status). Send `X-Request-Id` to
correlate logs; W3C `traceparent` is honoured."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "status", "message"],
            "properties": {
                "code": {"type": "integer", "description": "The HTTP status."},
                "status": {"type": "string", "description": "The google.rpc.Code name."},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"@type": {"type": "string"}},
                        "additionalProperties": True,
                        "description": "google.rpc.ErrorInfo (`reason`), google.rpc.BadRequest "
                        "(`fieldViolations`), google.rpc.RequestInfo (`requestId`).",
                    },
                },
            },
        }
    },
}


class OpenApi:
    def __init__(self, routes: RouteTable, protos_dir: Path):
        self.routes = routes
        self.protos_dir = protos_dir
        self._document: dict | None = None

    async def document(self) -> dict:
        if self._document is None:  # protoc runs in a thread: the loop keeps serving meanwhile
            self._document = await asyncio.to_thread(self.build)
        return self._document

    def build(self) -> dict:
        files = sorted({r.rpc.descriptor.containing_service.file.name for r in self.routes.routes})
        return build_document(self.routes, load_comments(self.protos_dir, files))


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _request_body(route: Route, schemas: Schemas) -> dict | None:
    rpc = route.rpc
    request = rpc.descriptor.input_type
    if rpc.client_streaming:
        content = _json(
            {
                "type": "array",
                "items": schemas.message(request),
                "description": "The stream's messages, in order.",
            }
        )
        raw = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
        content.update({"text/csv": raw, "application/octet-stream": raw})
        return {
            "required": True,
            "content": content,
            "description": "A JSON array of the messages, or the raw file with the first "
            "message's fields as query parameters.",
        }
    if route.body == "*":
        return {"required": True, "content": _json(_without_path_fields(route, schemas))}
    if route.body:
        return {
            "required": True,
            "content": _json(schemas.field(request.fields_by_name[route.body])),
        }
    return None


def _without_path_fields(route: Route, schemas: Schemas) -> dict:
    """The request message's schema, less the top-level fields the path sets (a custom method's
    `name`): the client sends them in the path, and one in the body would be overridden."""
    schema = schemas.message(route.rpc.descriptor.input_type)
    request = route.rpc.descriptor.input_type
    bound = {request.fields_by_name[p].json_name for p in route.bound_paths if "." not in p}
    if not bound:
        return schema
    inline = dict(schemas.components[request.full_name])
    inline["properties"] = {k: v for k, v in inline["properties"].items() if k not in bound}
    required = [name for name in inline.get("required", []) if name not in bound]
    inline.pop("required", None)
    return {**inline, **({"required": required} if required else {})}


def _response(route: Route, schemas: Schemas) -> dict:
    if route.rpc.descriptor.output_type.full_name == HTTP_BODY:
        return {
            "description": "A file (google.api.HttpBody): the body as the service made it, "
            "with its content type, streamed as it is written.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    schema = schemas.message(route.rpc.descriptor.output_type)
    if route.rpc.server_streaming:
        return {
            "description": "Server-Sent Events: each `data:` line is one message as JSON "
            "(`x-event-schema`); `id:` is its cursor, sent back as `Last-Event-ID` to resume.",
            "content": {
                "text/event-stream": {"schema": {"type": "string"}, "x-event-schema": schema}
            },
        }
    return {"description": "OK", "content": _json(schema)}


def _operation(route: Route, schemas: Schemas, comments: dict[str, str]) -> tuple[str, dict]:
    method = route.rpc.descriptor
    service = method.containing_service
    path, parameters = path_and_parameters(route.template)
    parameters += query_parameters(route, schemas)
    text = comments.get(method.full_name, method.name)
    operation = {
        "operationId": f"{service.name}_{method.name}",
        "tags": [service.name],
        "summary": text.split("\n")[0],
        "description": text,
        "x-roles": list(ACCESS.get(route.rpc.name, ())),
        "parameters": parameters,
        "responses": {
            "200": _response(route, schemas),
            **{str(status): _error_response(status) for status in ERROR_STATUSES},
            "default": ERROR_REF,
        },
    }
    body = _request_body(route, schemas)
    if body:
        operation["requestBody"] = body
    return path, operation


def build_document(routes: RouteTable, comments: dict[str, str]) -> dict:
    schemas = Schemas(comments)
    paths: dict[str, dict] = {}
    tags: dict[str, str] = {}
    ordered = sorted(routes.routes, key=lambda r: (r.template.text, r.method))
    built = {route: _operation(route, schemas, comments) for route in ordered}
    follow = links(
        ordered, {r: (op["operationId"], op["parameters"]) for r, (_, op) in built.items()}
    )
    for route, (path, operation) in built.items():
        if operation["operationId"] in follow:
            operation["responses"]["200"]["links"] = follow[operation["operationId"]]
        paths.setdefault(path, {})[route.method.lower()] = operation
        service = route.rpc.descriptor.containing_service
        tags[service.name] = comments.get(service.full_name, "")
    paths["/healthz"] = {"get": _probe("probe_alive", "The process is alive.")}
    paths["/readyz"] = {"get": _probe("probe_ready", "Every backend is SERVING (503: not all).")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Settle API", "version": "v1", "description": INTRODUCTION},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"apiKey": []}],
        "tags": [{"name": name, "description": text} for name, text in sorted(tags.items())],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**dict(sorted(schemas.components.items())), "Error": ERROR_SCHEMA},
            "responses": {
                "Error": {
                    "description": "An error (see the `error.status`).",
                    "content": _json({"$ref": "#/components/schemas/Error"}),
                }
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }


def _probe(operation_id: str, description: str) -> dict:
    return {
        "tags": ["Probes"],
        "summary": description,
        "security": [],
        "operationId": operation_id,
        "responses": {"200": {"description": "OK"}, "503": {"description": "Not ready"}},
    }
