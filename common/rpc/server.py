"""Bootstrap of a Settle gRPC process: interceptors, health, reflection, background workers and
graceful shutdown. `python -m services.<name>` and the tests start services the same way."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from common import contract
from common.rpc.server_interceptor import ServerInterceptor

log = structlog.get_logger("settle.server")
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # A peer that comes back is reached within seconds, not after gRPC's default 120 s backoff.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 3_000),
]
SERVER_OPTIONS = [
    *CHANNEL_OPTIONS,
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.so_reuseport", 0),
]
GRACE_S = 5.0
HEALTH_PREFIX = "/grpc.health.v1.Health/"


def not_health_check(details) -> bool:
    """The tracing filter of every call, client and server: what OpenTelemetry's
    `negate(health_check())` says, for a thousandth of its CPU (its typing-Protocol isinstance
    checks and path normalisation cost ~0.1 ms per call)."""
    method = details.method
    if isinstance(method, bytes):  # grpc.aio clients pass bytes (grpc/grpc#31092)
        method = method.decode()
    return not method.startswith(HEALTH_PREFIX)


Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class ServiceProcess:
    """What a service's composition root hands to the bootstrap."""

    name: str
    listen_addr: str
    internal_secret: str
    register: Callable[[grpc.aio.Server], None]  # adds the servicers
    service_names: tuple[str, ...]  # full proto service names, for health and reflection
    ready_check: Callable[[], Awaitable[bool]]  # e.g. the database answers
    workers: list[Worker] = field(default_factory=list)
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    require_identity: bool = True


class RunningServer:
    def __init__(self, process: ServiceProcess):
        self.process = process
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> int:
        p = self.process
        self._server = grpc.aio.server(
            # spans too (server_spans.py); health probes and reflection pass untouched
            interceptors=[ServerInterceptor(p.name, p.internal_secret, p.require_identity)],
            options=SERVER_OPTIONS,
        )
        p.register(self._server)
        contract.build_for_services(p.service_names)  # an unreadable rule stops here, not a call
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (
                *p.service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._server,
        )
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.port = self._server.add_insecure_port(p.listen_addr)
        await self._server.start()
        self._tasks.append(asyncio.create_task(self._become_ready(), name=f"{p.name}-ready"))
        self._tasks += [
            asyncio.create_task(w(self._stop), name=f"{p.name}-worker") for w in p.workers
        ]
        host = p.listen_addr.rsplit(":", 1)[0]
        log.info("listening", service=p.name, address=f"{host}:{self.port}")
        return self.port

    async def _set_health(self, status) -> None:
        for name in ("", *self.process.service_names):
            await self._health.set(name, status)

    async def _become_ready(self) -> None:
        # SERVING only once the database answers: probes keep traffic away until then.
        while not self._stop.is_set():
            if await self.process.ready_check():
                await self._set_health(health_pb2.HealthCheckResponse.SERVING)
                return
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self._stop.set()
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        if self._server is not None:
            await self._server.stop(GRACE_S)
        for task in self._tasks:
            task.cancel() if task.get_name().endswith("-ready") else None
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for close in self.process.on_close:
            await close()
        log.info("stopped", service=self.process.name)

    async def run_until_signalled(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        await stop_requested.wait()
        log.info("shutting down", service=self.process.name)
        await self.stop()
