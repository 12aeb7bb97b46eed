"""HTTP routes from the `google.api.http` annotations (the grammar of google/api/http.proto):
path templates with variables (`{name=customers/*}`, `{customer.name=customers/*}`), custom verbs
(`:resolve`), and the request field that carries the body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import grpc
from google.api import annotations_pb2
from google.protobuf.descriptor import FieldDescriptor

from common.errors import InvalidArgument, NotFound
from gateway import fieldpath
from gateway.catalog import Rpc
from gateway.errors import HttpError

_SEGMENT = r"[^/:]+"  # a raw ':' only ever starts the custom verb; ids with one are %-encoded
_PATTERN = {"*": _SEGMENT, "**": rf"{_SEGMENT}(?:/{_SEGMENT})*"}
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class AnnotationError(ValueError):
    """A google.api.http option that cannot be served: found at startup, never per request."""


@dataclass(frozen=True)
class Variable:
    field_path: str  # proto names: "customer.name"
    segments: tuple[str, ...]  # ("customers", "*")


@dataclass(frozen=True)
class PathTemplate:
    text: str
    segments: tuple[str | Variable, ...]
    verb: str
    regex: re.Pattern

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        if not text.startswith("/"):
            raise AnnotationError(f"path template must start with '/': {text!r}")
        path, verb = text, ""
        tail = text.rsplit("/", 1)[-1].rsplit("}", 1)[-1]
        if ":" in tail:
            path, verb = text[: -len(tail) + tail.index(":")], tail[tail.index(":") + 1 :]
        segments = tuple(_segment(part) for part in _split(path[1:]))
        pattern = "/".join(_regex(s, i) for i, s in enumerate(segments))
        regex = re.compile("^/" + pattern + (":" + re.escape(verb) if verb else "") + "$")
        return cls(text, segments, verb, regex)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(s for s in self.segments if isinstance(s, Variable))

    @property
    def literal_count(self) -> int:
        return sum(isinstance(s, str) and s not in _PATTERN for s in self.segments)

    def match(self, raw_path: str) -> dict[str, str] | None:
        found = self.regex.match(raw_path)
        if found is None:
            return None
        try:
            return {
                v.field_path: unquote(found.group(f"v{i}"), errors="strict")
                for i, v in enumerate(self.segments)
                if isinstance(v, Variable)
            }
        except UnicodeDecodeError:
            raise InvalidArgument.of("path", "is not valid percent-encoded UTF-8") from None


def _split(path: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in path:
        depth += (ch == "{") - (ch == "}")
        if ch == "/" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _segment(part: str) -> str | Variable:
    if part.startswith("{") and part.endswith("}"):
        name, _, sub = part[1:-1].partition("=")
        return Variable(name, tuple((sub or "*").split("/")))
    if not part or any(c in part for c in "{}="):
        raise AnnotationError(f"bad path segment {part!r}")
    return part


def _regex(segment: str | Variable, index: int) -> str:
    if isinstance(segment, Variable):
        inner = "/".join(_PATTERN.get(s, re.escape(s)) for s in segment.segments)
        return f"(?P<v{index}>{inner})"
    return _PATTERN.get(segment, re.escape(segment))


@dataclass(frozen=True)
class Route:
    rpc: Rpc
    method: str  # "GET"
    template: PathTemplate
    body: str  # "" (no body), "*" (the whole request) or a top-level field's name

    @property
    def bound_paths(self) -> tuple[str, ...]:
        """Request fields the path sets (proto names)."""
        return tuple(v.field_path for v in self.template.variables)


def _routes_of(rpc: Rpc, rule) -> list[Route]:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        return []
    method, text = (
        (rule.custom.kind, rule.custom.path) if kind == "custom" else (kind, getattr(rule, kind))
    )
    route = Route(rpc, method.upper(), PathTemplate.parse(text), rule.body)
    _check(route)
    return [route, *(r for extra in rule.additional_bindings for r in _routes_of(rpc, extra))]


def _check(route: Route) -> None:
    request = route.rpc.descriptor.input_type
    for path in route.bound_paths:
        chain = fieldpath.resolve(request, path)
        if chain is None or chain[-1].type != FieldDescriptor.TYPE_STRING or chain[-1].is_repeated:
            raise AnnotationError(f"{route.rpc.name}: path variable {path!r} is not a string field")
    if route.body not in ("", "*") and request.fields_by_name.get(route.body) is None:
        raise AnnotationError(f"{route.rpc.name}: body {route.body!r} is not a request field")


class RouteTable:
    def __init__(self, routes: list[Route]):
        # The most literal template wins when two of the same method match one path.
        self.routes = sorted(routes, key=lambda r: -r.template.literal_count)

    @classmethod
    def from_rpcs(cls, rpcs: tuple[Rpc, ...]) -> RouteTable:
        return cls(
            [
                route
                for rpc in rpcs
                for route in _routes_of(
                    rpc, rpc.descriptor.GetOptions().Extensions[annotations_pb2.http]
                )
            ]
        )

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            if route.method == method and (bindings := route.template.match(raw_path)) is not None:
                return route, bindings
        allowed = self.methods_at(raw_path)
        if allowed:
            raise method_not_allowed(method, allowed)
        raise NotFound(f"no route for {method} {raw_path[:200]}", reason="ROUTE_NOT_FOUND")

    def methods_at(self, raw_path: str) -> list[str]:
        """The methods some route serves at this path (sorted; [] for an unknown path)."""
        return sorted({r.method for r in self.routes if r.template.match(raw_path) is not None})


def method_not_allowed(method: str, allowed: list[str]) -> HttpError:
    """405 with the `Allow` header RFC 9110 §15.5.6 requires."""
    return HttpError(
        405,
        grpc.StatusCode.UNIMPLEMENTED,
        f"{method} is not allowed here; allowed: {', '.join(allowed)}",
        "METHOD_NOT_ALLOWED",
        {"Allow": ", ".join(allowed)},
    )
