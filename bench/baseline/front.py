"""`python -m bench.baseline.front --grpc ADDR --http ADDR --next ADDR`: the bare counterpart of
the gateway — one process, two listeners, no authentication, no access table, no generic
transcoding. gRPC calls are relayed as bytes; HTTP `POST /v1/disputes` (JSON, as the gateway
takes it) becomes one CreateDispute call and its answer JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import grpc
import uvicorn
from google.protobuf import json_format
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import propagate, trace
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.baseline import tracing
from bench.baseline.server import Relay
from common.rpc.server import CHANNEL_OPTIONS, SERVER_OPTIONS
from settle.disputes.v1 import disputes_pb2 as dpb
from settle.disputes.v1.disputes_pb2_grpc import DisputesServiceStub


def http_app(channel: grpc.aio.Channel) -> Starlette:
    stub = DisputesServiceStub(channel)
    tracer = trace.get_tracer("bench.front")

    async def create_dispute(request: Request) -> Response:
        with tracer.start_as_current_span(
            "POST", context=propagate.extract(dict(request.headers)), kind=trace.SpanKind.SERVER
        ):
            dispute = json_format.Parse(await request.body(), dpb.Dispute())
            answer = await stub.CreateDispute(
                dpb.CreateDisputeRequest(
                    dispute=dispute, request_id=request.query_params.get("requestId", "")
                ),
                timeout=5,
            )
            body = json_format.MessageToJson(answer, always_print_fields_with_no_presence=True)
            return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/disputes", create_dispute, methods=["POST"])])


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # this process stops both listeners itself


async def serve(args: argparse.Namespace) -> None:
    server_interceptors, client_interceptors, shutdown = tracing.setup("front")
    channel = grpc.aio.insecure_channel(
        args.next_hop, options=CHANNEL_OPTIONS, interceptors=client_interceptors
    )
    server = grpc.aio.server(interceptors=server_interceptors, options=SERVER_OPTIONS)
    checks = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    server.add_generic_rpc_handlers((Relay(channel),))
    server.add_insecure_port(args.grpc)
    host, _, port = args.http.rpartition(":")
    http = _Uvicorn(uvicorn.Config(http_app(channel), host=host, port=int(port),
                                   log_config=None, access_log=False, lifespan="off"))  # fmt: skip
    await server.start()
    http_task = asyncio.create_task(http.serve())
    await checks.set("", health_pb2.HealthCheckResponse.SERVING)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    http.should_exit = True
    await http_task
    await server.stop(1)
    await channel.close()
    shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.baseline.front")
    parser.add_argument("--grpc", required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--next", dest="next_hop", required=True)
    asyncio.run(serve(parser.parse_args()))
