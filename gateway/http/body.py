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


def _charset(request: Request) -> str:
    """The Content-Type's charset parameter, lower case ("" when it names none)."""
    for parameter in request.headers.get("content-type", "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def _utf16(raw: bytes) -> bool:
    """UTF-16 (or UTF-32) JSON: a byte-order mark, or a NUL among the first bytes (RFC 8259
    §8.1 allows only UTF-8 between systems; a JSON text starts with ASCII)."""
    return raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4]


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


def check_json(request: Request, raw: bytes) -> None:
    """A non-empty body must say it is JSON, in UTF-8 (the only charset JSON has, RFC 8259)."""
    if not raw.strip():
        return
    if media_type(request) != JSON or _charset(request) not in ("", "utf-8") or _utf16(raw):
        raise unsupported(f"{JSON} in UTF-8")


async def read_json(request: Request, limit: int) -> bytes:
    """The raw JSON body (b"" when there is none)."""
    raw = await read(request, limit)
    check_json(request, raw)
    return raw
