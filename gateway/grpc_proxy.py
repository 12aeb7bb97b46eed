"""The gRPC front door: a generic handler per public method that admits the caller (metadata
`authorization: Bearer …` or `x-api-key`), then forwards the request bytes to the backend and the
answer back, undecoded. The caller's deadline is kept when shorter than the gateway's own."""

from __future__ import annotations

import time

import grpc
from google.protobuf.message import DecodeError

from common import contract
from common.actor import Actor
from common.errors import DomainError, InvalidArgument
from common.metrics import RpcMetrics
from common.rpc.replay import replay_markers
from gateway.backends import Backends
from gateway.calls import Gate, calling_as, request_id_from
from gateway.catalog import Rpc
from gateway.errors import backend_status, gateway_status, grpc_code, grpc_trailers, retry_after
from gateway.limits import Exhausted


async def _abort(context, status, request_id: str = "", wait: str = "") -> None:
    """Ends the call with `status`; `wait` (seconds) rides as `retry-after`, as does an outage's."""
    wait = wait or retry_after(status)
    trailers = grpc_trailers(status) + ((("x-request-id", request_id),) if request_id else ())
    trailers += (("retry-after", wait),) if wait else ()
    await context.abort(grpc_code(status), status.message, trailers)


async def _refuse(context, error: DomainError, request_id: str = "") -> None:
    """Aborts with the gateway's own refusal; a limit's after holding it back, with the seconds
    to wait in `retry-after` (as HTTP's header)."""
    wait = ""
    if isinstance(error, Exhausted):
        await error.hold_back()
        wait = error.retry_after
    await _abort(context, gateway_status(error), request_id, wait)


def _check_contract(rpc: Rpc, request: bytes) -> None:
    """The request within its declared rules (common/contract.py), as over HTTP; it is decoded
    for that only."""
    try:
        message = rpc.request_class.FromString(request)
    except DecodeError:
        raise InvalidArgument.of("request", f"is not a {rpc.request_class.__name__}") from None
    contract.check(message)


def _client(context) -> str:
    """The caller's address without its port ("ipv4:127.0.0.1:5312" → "ipv4:127.0.0.1")."""
    return (context.peer() or "").rpartition(":")[0]


class Proxy(grpc.GenericRpcHandler):
    def __init__(self, rpcs: tuple[Rpc, ...], gate: Gate, backends: Backends, metrics: RpcMetrics):
        self.gate = gate
        self.backends = backends
        self.metrics = metrics
        self.handlers = {rpc.path: self._handler(rpc) for rpc in rpcs}

    def service(self, handler_call_details):
        return self.handlers.get(handler_call_details.method)  # None: UNIMPLEMENTED

    async def _admit(self, rpc: Rpc, context) -> tuple[Actor, str]:
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        try:
            actor = self.gate.admit(
                rpc, metadata.get("authorization"), metadata.get("x-api-key"), _client(context)
            )
        except DomainError as exc:
            await _refuse(context, exc)
        request_id = request_id_from(metadata.get("x-request-id"))
        context.set_trailing_metadata((("x-request-id", request_id),))  # rides with the status
        return actor, request_id

    def _call(self, rpc: Rpc, request, context, actor: Actor, request_id: str):
        if not rpc.client_streaming:  # a stream's messages are import chunks, bounded by size
            _check_contract(rpc, request)
        with calling_as(actor, request_id):
            return self.backends.call(rpc)(
                request, timeout=self.gate.timeout_for(rpc, context.time_remaining())
            )

    def _record(self, rpc: Rpc, context, started: float) -> None:
        code = context.code() or grpc.StatusCode.OK  # set by an abort, else the call succeeded
        self.metrics.record(rpc.path, code.value[0], time.perf_counter() - started)

    def _handler(self, rpc: Rpc):
        async def unary_response(request, context):
            started = time.perf_counter()
            try:
                actor, request_id = await self._admit(rpc, context)
                try:
                    with self.gate.in_flight(rpc, actor):
                        call = self._call(rpc, request, context, actor, request_id)
                        reply = await call
                    replayed = replay_markers(await call.trailing_metadata())
                    context.set_trailing_metadata((("x-request-id", request_id), *replayed))
                    return reply
                except DomainError as exc:
                    await _refuse(context, exc, request_id)
                except grpc.aio.AioRpcError as exc:
                    await _abort(context, backend_status(exc, rpc.backend), request_id)
            finally:
                self._record(rpc, context, started)

        async def stream_response(request, context):
            started = time.perf_counter()
            try:
                actor, request_id = await self._admit(rpc, context)
                try:
                    call = self._call(rpc, request, context, actor, request_id)
                except DomainError as exc:
                    await _refuse(context, exc, request_id)
                try:
                    async for item in call:
                        yield item
                except grpc.aio.AioRpcError as exc:
                    await _abort(context, backend_status(exc, rpc.backend), request_id)
                finally:
                    call.cancel()
            finally:
                self._record(rpc, context, started)

        make = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(rpc.client_streaming, rpc.server_streaming)]
        return make(stream_response if rpc.server_streaming else unary_response)
