"""The outermost layer of every HTTP request: request id in and out, a SERVER span continuing
the caller's W3C trace context, one log line, response headers, and a JSON 500 (never a
traceback) if anything below fails before answering."""

from __future__ import annotations

import json
import time

import structlog
from google.rpc import code_pb2, status_pb2
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from common.metrics import HttpMetrics
from gateway.calls import request_id_from
from gateway.errors import GENERIC, error_body

log = structlog.get_logger("settle.gateway")
REQUEST_ID_HEADER = "x-request-id"
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]


class Edge:
    def __init__(self, app, tracer: trace.Tracer, metrics: HttpMetrics):
        self.app = app
        self.tracer = tracer
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = request_id_from(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        method, path = scope["method"], scope["path"]
        started, status = time.perf_counter(), {"code": 0}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    *_SECURITY_HEADERS,
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        context = propagate.extract(headers)
        with self.tracer.start_as_current_span(
            f"{method}",
            context=context,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path[:500]},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                log.exception("request failed", method=method, path=path[:200])
                if not status["code"]:
                    await _internal_error(send_with_headers, request_id)
                span.set_status(Status(StatusCode.ERROR))
            route = scope["state"].get("route")
            if route:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status["code"])
            if status["code"] >= 500:
                span.set_status(Status(StatusCode.ERROR))
        elapsed = time.perf_counter() - started
        # Unmatched paths share one label: a client's random URLs must not grow the series.
        self.metrics.record(method, route or "unmatched", status["code"], elapsed)
        log.info(
            "http request",
            method=method,
            route=route or path[:200],
            status=status["code"],
            duration_ms=round(elapsed * 1000, 2),
        )


async def _internal_error(send, request_id: str) -> None:
    status = status_pb2.Status(code=code_pb2.INTERNAL, message=GENERIC)
    body = json.dumps(error_body(status, 500, request_id)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
