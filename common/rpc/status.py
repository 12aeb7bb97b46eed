"""The one table from domain errors to gRPC status codes, with google.rpc details
(ErrorInfo always; BadRequest field violations for invalid arguments)."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from common import errors

ERROR_DOMAIN = "settle.app"
# Errors travel in HTTP/2 trailers (8 KiB by default): bound what an echoed bad value can add.
MAX_MESSAGE = 512
MAX_DESCRIPTION = 200
MAX_VIOLATIONS = 20


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


STATUS_BY_ERROR: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Aborted: grpc.StatusCode.ABORTED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def status_code_for(error: errors.DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return grpc.StatusCode.INTERNAL


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: errors.DomainError, service: str) -> grpc.Status:
    code = status_code_for(error)
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason,
                domain=f"{service}.{ERROR_DOMAIN}",
                metadata={k: _clip(v, MAX_DESCRIPTION) for k, v in error.metadata.items()},
            )
        )
    ]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=_clip(v.field, MAX_DESCRIPTION),
                            description=_clip(v.description, MAX_DESCRIPTION),
                        )
                        for v in error.violations[:MAX_VIOLATIONS]
                    ]
                )
            )
        )
    return rpc_status.to_status(
        status_pb2.Status(
            code=code.value[0], message=_clip(error.message, MAX_MESSAGE), details=details
        )
    )


def internal_status(message: str = "internal error; it has been logged") -> grpc.Status:
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message=message))


def details_of(rpc_error: grpc.aio.AioRpcError) -> tuple[list[errors.FieldViolation], str]:
    """Field violations and ErrorInfo reason carried by an error another service returned."""
    violations, reason = [], ""
    for key, value in rpc_error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations += [
                    errors.FieldViolation(v.field, v.description) for v in bad.field_violations
                ]
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
    return violations, reason


def error_status(error: errors.DomainError, service: str) -> status_pb2.Status:
    """The google.rpc.Status a call failing with `error` carries (the one error table): what a
    batch answers for an item that failed alone."""
    metadata = dict(to_status(error, service).trailing_metadata)
    return status_pb2.Status.FromString(metadata[rpc_status.GRPC_DETAILS_METADATA_KEY])
