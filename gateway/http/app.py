"""The Starlette application: probes, the API document and its browsable page, and the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from opentelemetry import trace
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from common.errors import NotFound
from common.metrics import HttpMetrics
from common.rpc.replay import REPLAY_MARKERS
from gateway.backends import Backends
from gateway.http.api import Api
from gateway.http.edge import Edge
from gateway.http.responses import error_response
from gateway.routing import method_not_allowed

DOCS_PAGE = Path(__file__).resolve().parent.parent / "static" / "docs.html"
API_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# The docs page is self-contained: it may run its own inline code and fetch from this origin only.
DOCS_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:"
)


def build_app(
    api: Api,
    backends: Backends,
    document: Callable[[], Awaitable[dict]],
    cors_origins: tuple[str, ...],
    tracer: trace.Tracer,
    metrics: HttpMetrics,
) -> Starlette:
    docs_html = DOCS_PAGE.read_text()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        backends_health = await backends.health()
        not_ready = sorted(name for name, state in backends_health.items() if state != "SERVING")
        body = {"status": "not ready" if not_ready else "ready", "backends": backends_health}
        if not_ready:
            body["notReady"] = not_ready
        return JSONResponse(body, status_code=503 if not_ready else 200)

    async def openapi(request: Request) -> Response:
        return JSONResponse(await document(), headers={"Cache-Control": "no-cache"})

    async def docs(request: Request) -> Response:
        return HTMLResponse(
            docs_html, headers={"Content-Security-Policy": DOCS_POLICY, "Cache-Control": "no-cache"}
        )

    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Only the fixed routes get here (the API route takes every other path).
        if exc.status_code == 405:
            # A method no route has (OPTIONS, HEAD…): Allow lists what the path serves.
            path = request.scope.get("raw_path", b"").decode("latin-1")
            allowed = api.routes.methods_at(path) or sorted(
                m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()
            )
            return error_response(request, method_not_allowed(request.method, allowed))
        return error_response(request, NotFound("no such route", reason="ROUTE_NOT_FOUND"))

    middleware = [Middleware(Edge, tracer=tracer, metrics=metrics)]
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=API_METHODS,
                allow_headers=[
                    "authorization",
                    "content-type",
                    "x-api-key",
                    "x-request-id",
                    "traceparent",
                    "tracestate",
                    "last-event-id",
                ],
                expose_headers=["x-request-id", *REPLAY_MARKERS],  # front-ends read them
                max_age=600,
            )
        )
    return Starlette(
        routes=[
            _read_only("/healthz", healthz),
            _read_only("/readyz", readyz),
            _read_only("/openapi.json", openapi),
            _read_only("/docs", docs),
            Route("/{path:path}", api.handle, methods=API_METHODS),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: http_error},
    )


def _read_only(path: str, endpoint) -> Route:
    """A gateway path that only GET (and HEAD) reads: any other method is 405 with `Allow`, not
    a 404 from the API route that would otherwise take it."""

    async def answer(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return error_response(request, method_not_allowed(request.method, ["GET"]))
        return await endpoint(request)

    return Route(path, answer, methods=[*API_METHODS, "OPTIONS"])
