"""Composition root of the gateway: everything the process needs is built here and passed down.

One process, one event loop, two listeners: HTTP/JSON (uvicorn + Starlette) on GATEWAY_HTTP_ADDR
and gRPC on GATEWAY_ADDR (the proxy, health and reflection). SIGTERM stops both gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket

import grpc
import structlog
import uvicorn
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import health_check, negate

from common import contract
from common.metrics import HttpMetrics, RpcMetrics
from common.rpc.server import GRACE_S, SERVER_OPTIONS
from gateway.auth.authenticator import Authenticator
from gateway.auth.policy import Policy
from gateway.backends import Backends
from gateway.calls import Gate
from gateway.catalog import Catalog, load_catalog
from gateway.grpc_proxy import Proxy
from gateway.http.api import Api
from gateway.http.app import build_app
from gateway.limits import Limiter, LimitMetrics
from gateway.openapi.document import OpenApi
from gateway.routing import RouteTable
from gateway.settings import GatewaySettings

log = structlog.get_logger("settle.gateway")


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # signals belong to the composition root, which stops HTTP and gRPC together


def _bind(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    return sock


class Gateway:
    """Made inside the event loop it will run on (gRPC's aio objects belong to one loop)."""

    def __init__(
        self,
        settings: GatewaySettings,
        catalog: Catalog | None = None,
        tracer_provider: trace.TracerProvider | None = None,  # None: OpenTelemetry's global one
        meter_provider: otel_metrics.MeterProvider | None = None,  # likewise
    ):
        self.settings = settings
        meter = meter_provider or otel_metrics.get_meter_provider()
        catalog = catalog or load_catalog()
        policy = Policy()
        rpcs = policy.public_rpcs(catalog)
        contract.build(rpc.descriptor.input_type for rpc in rpcs)  # checked on every call
        routes = RouteTable.from_rpcs(rpcs)
        base = settings.base
        self.backends = Backends(
            catalog, base.downstream, base.internal_secret, settings.deadline_s
        )
        limiter = Limiter(settings.limits, LimitMetrics(meter.get_meter("settle.gateway.limits")))
        gate = Gate(Authenticator(settings.jwt, settings.api_keys), policy, settings, limiter)
        self.openapi = OpenApi(routes, settings.protos_dir)
        app = build_app(
            Api(routes, gate, self.backends, settings),
            self.backends,
            self.openapi.document,
            settings.cors_origins,
            trace.get_tracer("settle.gateway", tracer_provider=tracer_provider),
            HttpMetrics(meter.get_meter("settle.gateway.http")),
        )
        self._http = _Uvicorn(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                http="h11",
                ws="none",
                server_header=False,
                timeout_graceful_shutdown=GRACE_S,
            )
        )
        self._grpc = grpc.aio.server(
            interceptors=[
                aio_server_interceptor(
                    tracer_provider=tracer_provider, filter_=negate(health_check())
                )
            ],
            options=SERVER_OPTIONS,
        )
        self._grpc.add_generic_rpc_handlers(
            (Proxy(rpcs, gate, self.backends, RpcMetrics(meter.get_meter("settle.rpc"))),)
        )
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._grpc)
        self._services = catalog.service_names()
        reflection.enable_server_reflection(
            (
                *self._services,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._grpc,
        )
        self._http_task: asyncio.Task | None = None
        self.http_port = self.grpc_port = 0

    async def _set_health(self, status) -> None:
        for name in ("", *self._services):
            await self._health.set(name, status)

    async def start(self) -> None:
        sock = _bind(self.settings.http_addr)
        self.http_port = sock.getsockname()[1]
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]), name="gateway-http")
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        self.grpc_port = self._grpc.add_insecure_port(self.settings.base.listen_addr)
        await self._grpc.start()
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        host = self.settings.http_addr.rpartition(":")[0]
        log.info("listening", http=f"{host}:{self.http_port}", grpc=f"{host}:{self.grpc_port}")
        if self.settings.development:
            log.info(
                "development mode: get a token with `make token ROLE=collector` "
                "(roles and routes: docs/gateway.md, or /docs)"
            )

    async def stop(self) -> None:
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self._http.should_exit = True
        await asyncio.gather(self._grpc.stop(GRACE_S), self._http_task or asyncio.sleep(0))
        await self.backends.close()
        log.info("stopped", service="gateway")

    async def run_until_signalled(self) -> None:
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down", service="gateway")
        await self.stop()
