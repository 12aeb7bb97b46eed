"""Every RPC a Settle service serves goes through here: its server span, caller identity, log
context, the mapping of errors to statuses, and the RPC metrics (duration per method and status
code). One place, so servicers contain only translation."""

from __future__ import annotations

import asyncio
import time

import grpc
import structlog
from google.protobuf.message import Message
from opentelemetry import metrics as otel_metrics

from common import actor as actors
from common import contract
from common.errors import DomainError, Unauthenticated, Unavailable
from common.idempotency import stop_watching, watch_replays
from common.ids import new_id
from common.metrics import RpcMetrics
from common.rpc.replay import tell_replayed
from common.rpc.spans import ServerSpan, end_with
from common.rpc.status import internal_status, to_status

log = structlog.get_logger("settle.rpc")
REQUEST_ID = "x-request-id"
_OPEN_PREFIXES = ("/grpc.health.", "/grpc.reflection.")
_TRANSIENT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        service: str,
        internal_secret: str,
        require_identity: bool = True,
        *,
        meter_provider: otel_metrics.MeterProvider | None = None,
    ):
        self.service = service
        self.secret = internal_secret
        self.require_identity = require_identity
        # The global provider (set by setup_telemetry) unless a test passes its own.
        provider = meter_provider or otel_metrics.get_meter_provider()
        self.metrics = RpcMetrics(provider.get_meter("settle.rpc"))

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or details.method.startswith(_OPEN_PREFIXES):
            return handler
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        call = _Call(self, details.method, metadata)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                call.wrap_unary(handler.unary_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                call.wrap_unary(handler.stream_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                call.wrap_stream(handler.unary_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            call.wrap_stream(handler.stream_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )


def _status_code(context, default: grpc.StatusCode) -> int:
    """The code the call ends with: what the handler or the abort set on the context."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.value[0]
    return code if isinstance(code, int) else default.value[0]


def _checked(request):
    """The request within its declared rules (common/contract.py) before a servicer reads it;
    a client stream's messages each as they arrive."""
    if isinstance(request, Message):
        contract.check(request)
        return request
    return _checked_stream(request)


async def _checked_stream(requests):
    async for request in requests:
        contract.check(request)
        yield request


class _Call:
    def __init__(self, owner: ServerInterceptor, method: str, metadata: dict[str, str]):
        self.owner = owner
        self.method = method
        self.metadata = metadata

    def _enter(self, context):
        request_id = self.metadata.get(REQUEST_ID) or new_id()
        structlog.contextvars.bind_contextvars(rpc_method=self.method, request_id=request_id)
        if self.owner.require_identity:
            return actors.set_actor(actors.verify(self.metadata, self.owner.secret))
        return actors.set_actor(None)

    async def _fail(self, context, exc: BaseException):
        if isinstance(exc, grpc.aio.AioRpcError) and exc.code() in _TRANSIENT:
            # another service did not answer in time: the caller may retry this one
            exc = Unavailable(f"a dependency is unavailable ({exc.code().name}); retry")
        if isinstance(exc, DomainError):
            if not isinstance(exc, Unauthenticated):
                log.info("rpc refused", reason=exc.reason, code=type(exc).__name__)
            status = to_status(exc, self.owner.service)
        else:
            log.exception("rpc failed", exc_info=exc)
            status = internal_status()
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _end(self, span: ServerSpan, context, started: float, ok: grpc.StatusCode, token) -> None:
        code = _status_code(context, ok)
        end_with(span.span, code)
        self.owner.metrics.record(self.method, code, time.perf_counter() - started)
        if token is not None:
            actors.reset_actor(token)
        structlog.contextvars.clear_contextvars()
        span.end()

    def wrap_unary(self, behavior):
        async def handle(request, context):
            token, started, ok = None, time.perf_counter(), grpc.StatusCode.OK
            replays, watching = watch_replays()
            span = ServerSpan(self.method, self.metadata)
            try:
                token = self._enter(context)
                reply = await behavior(_checked(request), context)
                tell_replayed(context, replays)
                return reply
            except asyncio.CancelledError:
                ok = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await self._fail(context, exc)
            finally:
                stop_watching(watching)
                self._end(span, context, started, ok, token)

        return handle

    def wrap_stream(self, behavior):
        async def handle(request, context):
            token, started, ok = None, time.perf_counter(), grpc.StatusCode.OK
            span = ServerSpan(self.method, self.metadata)
            try:
                token = self._enter(context)
                async for item in behavior(_checked(request), context):
                    yield item
            except (asyncio.CancelledError, GeneratorExit):
                ok = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await self._fail(context, exc)
            finally:
                self._end(span, context, started, ok, token)

        return handle
