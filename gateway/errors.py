"""Errors at the gateway's edges: every failure becomes one google.rpc.Status, which the gRPC
proxy returns as is and the HTTP edge renders by one table, gRPC status → HTTP status.

FAILED_PRECONDITION is 409, not 412: 412 belongs to HTTP conditional headers (If-Match), which this
API does not use; a wrong state is a conflict with the resource's current state, as in Google APIs.
"""

from __future__ import annotations

import grpc
import structlog
from google.protobuf import json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2

from common.errors import DomainError
from common.rpc.status import to_status

log = structlog.get_logger("settle.gateway")
DETAILS_KEY = "grpc-status-details-bin"
CODES = {code.value[0]: code for code in grpc.StatusCode}

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}  # every other code (UNKNOWN, INTERNAL, DATA_LOSS): 500 with a generic message
# Codes whose backend message may carry internals (addresses, exception text): replaced.
_SANITISED = {
    grpc.StatusCode.UNAVAILABLE: "the {backend} service is unavailable; retry shortly",
    grpc.StatusCode.DEADLINE_EXCEEDED: "the {backend} service did not answer in time",
    grpc.StatusCode.CANCELLED: "the call to the {backend} service was cancelled",
}
GENERIC = "internal error; it has been logged"
# An outage's answer says when to come back (HTTP `Retry-After`, gRPC `retry-after` trailer): a
# backend or its database restarting is usually back within seconds, and clients that honour it
# space their retries instead of hammering a recovering service.
RETRY_AFTER_UNAVAILABLE_S = 1


class HttpError(DomainError):
    """A failure only HTTP has (wrong method, body too large, media type): its own HTTP status."""

    def __init__(
        self,
        http_status: int,
        code: grpc.StatusCode,
        message: str,
        reason: str,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, reason=reason)
        self.http_status = http_status
        self.code = code
        self.headers = headers or {}


def http_status_of(code: grpc.StatusCode) -> int:
    return HTTP_STATUS.get(code, 500)


def _from_trailers(code: grpc.StatusCode, message: str, trailers) -> status_pb2.Status:
    for key, value in trailers or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:  # a malformed detail must not hide the error itself
                break
    return status_pb2.Status(code=code.value[0], message=message)


def gateway_status(error: DomainError) -> status_pb2.Status:
    """A status for what the gateway itself refuses (authentication, authorisation, input)."""
    status = to_status(error, "gateway")
    result = _from_trailers(status.code, status.details, status.trailing_metadata)
    if isinstance(error, HttpError):
        result.code = error.code.value[0]
    return result


def backend_status(error: grpc.aio.AioRpcError, backend: str) -> status_pb2.Status:
    """The backend's status, passed on, except what could leak internals or mislead the caller."""
    code = error.code()
    if code == grpc.StatusCode.UNAUTHENTICATED:
        # The backend refused the gateway's own signature: a configuration fault (the internal
        # secrets differ), not the caller's; a 401 would send front-ends into a login loop.
        log.error(
            "backend refused the gateway's identity; check SETTLE_INTERNAL_SECRET", backend=backend
        )
        return status_pb2.Status(code=code_pb2.INTERNAL, message=GENERIC)
    if code in _SANITISED:
        log.warning("backend call failed", backend=backend, code=code.name, details=error.details())
        return status_pb2.Status(
            code=code.value[0], message=_SANITISED[code].format(backend=backend)
        )
    if http_status_of(code) >= 500:
        log.error("backend call failed", backend=backend, code=code.name, details=error.details())
        return status_pb2.Status(code=code.value[0], message=GENERIC)
    return _from_trailers(code, error.details() or "", error.trailing_metadata())


def grpc_code(status: status_pb2.Status) -> grpc.StatusCode:
    return CODES.get(status.code, grpc.StatusCode.UNKNOWN)


def retry_after(status: status_pb2.Status) -> str:
    """The seconds to wait before retrying a call that ended with `status`; "" when a retry
    would not help or the refusal sets its own (429)."""
    if grpc_code(status) == grpc.StatusCode.UNAVAILABLE:
        return str(RETRY_AFTER_UNAVAILABLE_S)
    return ""


def grpc_trailers(status: status_pb2.Status) -> tuple[tuple[str, bytes], ...]:
    return ((DETAILS_KEY, status.SerializeToString()),)


def _detail(packed) -> dict:
    try:
        return json_format.MessageToDict(packed)
    except Exception:  # a detail type this process does not know: say what it is, at least
        return {"@type": packed.type_url}


def error_body(status: status_pb2.Status, http_status: int, request_id: str = "") -> dict:
    """google.rpc.Status in the JSON shape of Google APIs: {"error": {code, status, message,
    details}}, with `code` the HTTP status. 5xx bodies say nothing of internals."""
    code = grpc_code(status)
    details = (
        [_detail(d) for d in status.details] if http_status < 500 or code in _SANITISED else []
    )
    message = status.message if http_status < 500 or code in _SANITISED else GENERIC
    if http_status >= 500 and request_id:
        info = error_details_pb2.RequestInfo(request_id=request_id)
        details.append(
            {"@type": f"type.googleapis.com/{info.DESCRIPTOR.full_name}", "requestId": request_id}
        )
    return {
        "error": {"code": http_status, "status": code.name, "message": message, "details": details}
    }
