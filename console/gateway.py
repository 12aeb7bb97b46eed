"""The only way the console reaches Settle: the gateway's HTTP/JSON API, with the user's token.

Refusals become `ApiError` carrying what a person needs to read: the message, the stable reason,
and the field violations keyed by field path (so a form can show each next to its field).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

TIMEOUT_S = 10.0
# A watch stream is quiet between events; the gateway sends a comment every 15 s, so a longer
# silence means the gateway is gone and the relay ends (the browser reconnects).
STREAM_TIMEOUT = httpx.Timeout(TIMEOUT_S, read=45.0)


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    reason: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    request_id: str = ""

    @property
    def stale(self) -> bool:
        """The resource changed since the page was drawn (stale etag): offer a reload."""
        return self.code == "ABORTED"

    @property
    def signed_out(self) -> bool:
        return self.status == 401

    def __str__(self) -> str:
        return self.message


def _error_from(response: httpx.Response) -> ApiError:
    request_id = response.headers.get("x-request-id", "")
    try:
        body = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return ApiError(
            response.status_code, "UNKNOWN", _generic(response.status_code), "", {}, request_id
        )
    fields: dict[str, str] = {}
    reason = ""
    for detail in body.get("details", []):
        kind = detail.get("@type", "")
        if kind.endswith("google.rpc.BadRequest"):
            for violation in detail.get("fieldViolations", []):
                fields[violation.get("field", "")] = violation.get("description", "")
        elif kind.endswith("google.rpc.ErrorInfo"):
            reason = detail.get("reason", "")
    message = body.get("message") or _generic(response.status_code)
    if response.status_code >= 500:
        message = _generic(response.status_code)
    return ApiError(
        response.status_code, body.get("status", ""), message, reason, fields, request_id
    )


def _generic(status: int) -> str:
    if status == 503:
        return "Settle is briefly unavailable; try again in a moment."
    if status == 504:
        return "Settle took too long to answer; try again."
    return "Something went wrong on our side; the request id below helps support find it."


class Gateway:
    """One shared connection pool; every call carries the signed-in user's bearer token."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, token: str, path: str, **params: Any) -> dict:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return await self._send(token, "GET", path, params=query)

    async def post(self, token: str, path: str, body: dict, query: dict | None = None) -> dict:
        return await self._send(token, "POST", path, json=body, params=query)

    async def download(self, token: str, path: str, **params: Any) -> httpx.Response:
        """A file the gateway streams (report exports): the response, for its body and type."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        try:
            response = await self._client.get(
                path, params=query, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TimeoutException:
            raise ApiError(504, "DEADLINE_EXCEEDED", _generic(504)) from None
        except httpx.TransportError:
            raise ApiError(503, "UNAVAILABLE", _generic(503)) from None
        if response.is_error:
            raise _error_from(response)
        return response

    @asynccontextmanager
    async def events(
        self, token: str, path: str, last_event_id: str = "", **params: Any
    ) -> AsyncIterator[httpx.Response]:
        """A Server-Sent Events stream the gateway serves (the escalation watch), open while the
        block runs; a refusal before the stream starts is an `ApiError`."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        query = {k: v for k, v in params.items() if v not in (None, "")}
        request = self._client.build_request(
            "GET", path, params=query, headers=headers, timeout=STREAM_TIMEOUT
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise ApiError(504, "DEADLINE_EXCEEDED", _generic(504)) from None
        except httpx.TransportError:
            raise ApiError(503, "UNAVAILABLE", _generic(503)) from None
        try:
            if response.is_error:
                await response.aread()
                raise _error_from(response)
            yield response
        finally:
            await response.aclose()

    async def _send(self, token: str, method: str, path: str, **kwargs: Any) -> dict:
        try:
            response = await self._client.request(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
        except httpx.TimeoutException:
            raise ApiError(504, "DEADLINE_EXCEEDED", _generic(504)) from None
        except httpx.TransportError:
            raise ApiError(503, "UNAVAILABLE", _generic(503)) from None
        if response.is_error:
            raise _error_from(response)
        return response.json() if response.content else {}
