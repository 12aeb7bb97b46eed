"""Streaming methods over HTTP.

Server streams (escalation watch) are Server-Sent Events: one `data:` line of JSON per message,
`id:` = the message's `cursor` when it has one, and `Last-Event-ID` fills the request's `cursor`,
so a reconnecting client resumes where it stopped. Failures after the stream started arrive as an
`event: rpc-error` carrying the usual error body.

A method answering `google.api.HttpBody` (report exports) is a file, not JSON: its messages' data
is the response body, as it arrives, with the first message's content type. A failure before the
first chunk is the usual error response; one after it cuts the transfer short, so a client never
takes half a file for a whole one.

Client streams (open-item import) take either a JSON array whose elements are the stream's
messages in order (`[{"options": {...}}, {"chunk": "<base64>"}]`), or a raw body (`text/csv`,
`application/octet-stream`): the query parameters fill the first message and the body is sent,
as it arrives, in the message's bytes field. A body cut short (too large, client gone) cancels the
call, so the backend never sees a truncated file as a complete one.
"""

from __future__ import annotations

import asyncio
import json
import re

import grpc
from google.api import httpbody_pb2
from google.protobuf.descriptor import FieldDescriptor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from common.actor import Actor
from common.errors import DomainError, InvalidArgument
from gateway import transcode
from gateway.calls import calling_as
from gateway.errors import backend_status, error_body, grpc_code, http_status_of
from gateway.http import body
from gateway.http.responses import error_response
from gateway.routing import Route

FIRST_MESSAGE_WAIT_S = 0.25  # an immediate failure (NOT_FOUND, bad cursor) still gets its status
HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream
CURSOR = "cursor"
RAW_MEDIA_TYPES = ("text/csv", "application/octet-stream")  # a raw upload: the file as is
_EVENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")


def _cursor_field(message_type) -> FieldDescriptor | None:
    field = message_type.DESCRIPTOR.fields_by_name.get(CURSOR)
    return field if field is not None and field.type == FieldDescriptor.TYPE_STRING else None


async def events(request: Request, route: Route, message, actor: Actor, api) -> Response:
    rpc = route.rpc
    last_event = request.headers.get("last-event-id", "")
    if _cursor_field(rpc.request_class) and _EVENT_ID.match(last_event) and not message.cursor:
        message.cursor = last_event
    with calling_as(actor, request.state.request_id):
        call = api.backends.call(rpc)(
            message.SerializeToString(), timeout=api.gate.timeout_for(rpc)
        )
    pending = asyncio.ensure_future(call.read())
    done, _ = await asyncio.wait({pending}, timeout=FIRST_MESSAGE_WAIT_S)
    if done and isinstance(pending.exception(), grpc.aio.AioRpcError):
        return error_response(request, pending.exception(), rpc.backend)
    return StreamingResponse(
        _sse(call, pending, route),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


HTTP_BODY = httpbody_pb2.HttpBody.DESCRIPTOR.full_name
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def answers_file(rpc) -> bool:
    return rpc.descriptor.output_type.full_name == HTTP_BODY


def file_response(raw: bytes) -> Response:
    """A unary method's HttpBody as the response."""
    body_ = httpbody_pb2.HttpBody.FromString(raw)
    return Response(body_.data, media_type=body_.content_type or DEFAULT_MEDIA_TYPE)


async def download(request: Request, route: Route, message, actor: Actor, api) -> Response:
    rpc = route.rpc
    with calling_as(actor, request.state.request_id):
        call = api.backends.call(rpc)(
            message.SerializeToString(), timeout=api.gate.timeout_for(rpc)
        )
    try:
        raw = await call.read()
    except grpc.aio.AioRpcError as exc:
        return error_response(request, exc, rpc.backend)
    if raw is grpc.aio.EOF:
        return Response(b"", media_type=DEFAULT_MEDIA_TYPE)
    first = httpbody_pb2.HttpBody.FromString(raw)

    async def data():
        try:
            yield first.data
            while (raw := await call.read()) is not grpc.aio.EOF:
                yield httpbody_pb2.HttpBody.FromString(raw).data
        finally:
            call.cancel()

    return StreamingResponse(
        data(),
        media_type=first.content_type or DEFAULT_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )


def _event(message, with_id: bool) -> str:
    data = json.dumps(transcode.to_json(message), ensure_ascii=False, separators=(",", ":"))
    cursor = getattr(message, CURSOR) if with_id else ""
    return (f"id: {cursor}\n" if cursor else "") + f"data: {data}\n\n"


async def _sse(call, pending: asyncio.Future, route: Route):
    rpc, with_id = route.rpc, _cursor_field(route.rpc.response_class) is not None
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_S)
            if not done:
                yield ": keep-alive\n\n"
                continue
            raw = pending.result()
            if raw is grpc.aio.EOF:
                return
            yield _event(rpc.response_class.FromString(raw), with_id)
            pending = asyncio.ensure_future(call.read())
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:  # the stream's lifetime: reconnect
            status = backend_status(exc, rpc.backend)
            body_ = error_body(status, http_status_of(grpc_code(status)))
            yield f"event: rpc-error\ndata: {json.dumps(body_)}\n\n"
    finally:
        pending.cancel()
        call.cancel()


def _bytes_field(message_type) -> FieldDescriptor | None:
    found = [
        f
        for f in message_type.DESCRIPTOR.fields
        if f.type == FieldDescriptor.TYPE_BYTES and not f.is_repeated
    ]
    return found[0] if len(found) == 1 else None


async def _json_messages(request: Request, route: Route, bindings: dict, limit: int) -> list[bytes]:
    raw = await body.read(request, limit)
    body.check_json(request, raw)
    payload = transcode.decode_json(raw)
    if not isinstance(payload, list) or not payload:
        raise InvalidArgument.of("body", "must be a JSON array of the stream's messages, in order")
    if request.query_params:
        raise InvalidArgument.of("query", "is not used with a JSON body; put everything in it")
    cls = route.rpc.request_class
    return [
        transcode.build_message(cls, "*", item, bindings if i == 0 else {}, []).SerializeToString()
        for i, item in enumerate(payload)
    ]


async def upload(request: Request, route: Route, bindings: dict, actor: Actor, api) -> Response:
    rpc, limit = route.rpc, api.settings.max_upload_bytes
    failure: list[DomainError] = []
    if body.media_type(request) == body.JSON:
        messages = await _json_messages(request, route, bindings, limit)
        requests = iter(messages)
    else:
        field = _bytes_field(rpc.request_class)
        if field is None or body.media_type(request) not in RAW_MEDIA_TYPES:
            accepted = body.JSON if field is None else " or ".join((body.JSON, *RAW_MEDIA_TYPES))
            raise body.unsupported(accepted)
        first = transcode.build_message(
            rpc.request_class, "", None, bindings, request.query_params.multi_items()
        )

        async def stream():
            yield first.SerializeToString()
            try:
                async for chunk in body.chunks(request, limit):
                    yield rpc.request_class(**{field.name: chunk}).SerializeToString()
            except DomainError as exc:
                # Raising (not returning) makes gRPC cancel the call: the backend must never see
                # the end of a cut-short body as the end of the file.
                failure.append(exc)
                raise

        requests = stream()
    with calling_as(actor, request.state.request_id):
        call = api.backends.call(rpc)(requests, timeout=api.gate.timeout_for(rpc))
    try:
        raw = await call
    except asyncio.CancelledError:
        if failure:
            raise failure[0] from None
        raise
    return JSONResponse(transcode.to_json(rpc.response_class.FromString(raw)))
