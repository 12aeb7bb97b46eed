"""Request bodies, read within a size limit (checked on the way in, not after buffering it all)
and of the media type the method expects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from starlette.requests import ClientDisconnect, Request

from gateway.errors import HttpError

JSON = "application/json"


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _too_large(limit: int) -> HttpError:
    return HttpError(
        413,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"the body is larger than {limit} bytes",
        "BODY_TOO_LARGE",
    )


def unsupported(accepted: str) -> HttpError:
    return HttpError(
        415,
        grpc.StatusCode.INVALID_ARGUMENT,
        f"the body must be {accepted}",
        "UNSUPPORTED_MEDIA_TYPE",
    )


async def chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise HttpError(
            400, grpc.StatusCode.CANCELLED, "the client went away", "CLIENT_DISCONNECTED"
        ) from None


async def read(request: Request, limit: int) -> bytes:
    return b"".join([chunk async for chunk in chunks(request, limit)])


async def read_json(request: Request, limit: int) -> bytes:
    """The raw JSON body; a non-empty body must say it is JSON (or say nothing)."""
    raw = await read(request, limit)
    if raw.strip() and media_type(request) not in ("", JSON):
        raise unsupported(JSON)
    return raw
