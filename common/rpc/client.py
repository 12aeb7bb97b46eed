"""Channels to other Settle services: every outgoing call is traced, carries the caller's signed
identity and request id, and has a deadline (the default one when the caller sets none). Unary
calls are traced here (common/rpc/spans.py); streaming ones by OpenTelemetry's interceptors."""

from __future__ import annotations

import asyncio

import grpc
import structlog
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.instrumentation.grpc._aio_client import UnaryUnaryAioClientInterceptor
from opentelemetry.trace import Span

from common import actor as actors
from common.rpc.server import CHANNEL_OPTIONS, HEALTH_PREFIX, not_health_check
from common.rpc.server_interceptor import REQUEST_ID
from common.rpc.spans import client_span, end_with, inject_into


class _CallContext:
    """Adds identity, request id and the default deadline to every outgoing call."""

    def __init__(self, secret: str, service: str, default_deadline_s: float):
        self.secret = secret
        self.service = service
        self.default_deadline_s = default_deadline_s

    def _details(
        self, details: grpc.aio.ClientCallDetails, *, span: Span | None = None
    ) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if span is not None:
            inject_into(metadata, span)
        caller = actors.current_actor()
        if caller is actors.SYSTEM:
            caller = actors.Actor(f"service:{self.service}", ("service",))
        for key, value in actors.sign(caller, self.secret):
            metadata[key] = value
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id and REQUEST_ID not in metadata:
            metadata[REQUEST_ID] = request_id
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout if details.timeout is not None else self.default_deadline_s,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


# grpc.aio files each interceptor under the first call type it implements, so one class per type.
class _UnaryUnary(_CallContext, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        method = details.method
        if isinstance(method, bytes):  # grpc.aio passes bytes (grpc/grpc#31092)
            method = method.decode()
        if method.startswith(HEALTH_PREFIX):  # probes are not traced (see common/rpc/server.py)
            return await continuation(self._details(details), request)
        span = client_span(method)
        code = grpc.StatusCode.UNKNOWN  # until the call says otherwise
        try:
            call = await continuation(self._details(details, span=span), request)
            code = await call.code()
            return call
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            end_with(span, code.value[0], client=True)
            span.end()


class _UnaryStream(_CallContext, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(self._details(details), request)


class _StreamUnary(_CallContext, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, details, request_iterator):
        return await continuation(self._details(details), request_iterator)


class _StreamStream(_CallContext, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, details, request_iterator):
        return await continuation(self._details(details), request_iterator)


def open_channel(
    target: str, *, secret: str, service: str, default_deadline_s: float = 5.0
) -> grpc.aio.Channel:
    """An insecure channel (traffic stays inside the cluster network; mTLS belongs to the mesh)."""
    context = [
        cls(secret, service, default_deadline_s)
        for cls in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]
    # health probes are not traced (see common/rpc/server.py)
    streams = [
        i
        for i in aio_client_interceptors(filter_=not_health_check)
        if not isinstance(i, UnaryUnaryAioClientInterceptor)
    ]
    interceptors = [*streams, *context]
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=interceptors)
