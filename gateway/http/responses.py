"""JSON responses, and the one way an error becomes an HTTP response."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse

from common.errors import DomainError
from gateway.errors import (
    HttpError,
    backend_status,
    error_body,
    gateway_status,
    grpc_code,
    http_status_of,
    retry_after,
)


def status_response(
    request: Request,
    status: status_pb2.Status,
    http_status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    http_status = http_status or http_status_of(grpc_code(status))
    if http_status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="settle"'}
    if wait := retry_after(status):
        headers = {**(headers or {}), "Retry-After": wait}
    body = error_body(status, http_status, request.state.request_id)
    return JSONResponse(body, status_code=http_status, headers=headers)


def error_response(request: Request, error: Exception, backend: str = "") -> JSONResponse:
    """For a refusal of the gateway (DomainError) or a failed backend call (AioRpcError)."""
    if isinstance(error, grpc.aio.AioRpcError):
        return status_response(request, backend_status(error, backend))
    assert isinstance(error, DomainError)
    if isinstance(error, HttpError):
        return status_response(request, gateway_status(error), error.http_status, error.headers)
    return status_response(request, gateway_status(error))
