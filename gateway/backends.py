"""Channels to the services behind the gateway: one per backend, opened once, each call signed
with the caller's identity and traced (common/rpc/client.py). Messages pass through as bytes, so
the gRPC proxy never decodes them and the HTTP edge decodes each once."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.rpc.client import open_channel
from gateway.catalog import Catalog, Rpc

HEALTH_TIMEOUT_S = 1.0


class Backends:
    def __init__(self, catalog: Catalog, addresses: dict[str, str], secret: str, deadline_s: float):
        self.channels = {
            backend: open_channel(
                addresses[backend], secret=secret, service="gateway", default_deadline_s=deadline_s
            )
            for backend in catalog.backends
        }
        self._calls = {rpc.path: self._multicallable(rpc) for rpc in catalog.rpcs}

    def _multicallable(self, rpc: Rpc):
        channel = self.channels[rpc.backend]
        kind = {
            (False, False): channel.unary_unary,
            (False, True): channel.unary_stream,
            (True, False): channel.stream_unary,
            (True, True): channel.stream_stream,
        }[(rpc.client_streaming, rpc.server_streaming)]
        return kind(rpc.path)  # no (de)serialisers: bytes in, bytes out

    def call(self, rpc: Rpc):
        return self._calls[rpc.path]

    async def health(self) -> dict[str, str]:
        """Each backend's gRPC health ("SERVING", "NOT_SERVING", or the failure's status code)."""

        async def check(channel: grpc.aio.Channel) -> str:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT_S
                )
                return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.aio.AioRpcError as exc:
                return exc.code().name

        names = list(self.channels)
        results = await asyncio.gather(*(check(self.channels[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self.channels.values()))
