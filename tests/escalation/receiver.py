"""A real webhook receiver on loopback (uvicorn + starlette) that can fail, hang, or succeed."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Hit:
    path: str
    delivery: str
    event: str
    signature: str
    body: bytes
    at: float  # time.monotonic()
    status: int


@dataclass
class Receiver:
    base: str = ""
    hits: list[Hit] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request
    fail_first: int = 2  # /flaky answers 500 to the first attempts of each delivery
    hang_s: float = 3.0  # /slow answers after this long

    def on(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def accepted(self, path: str) -> list[Hit]:
        return [h for h in self.on(path) if h.status == 200]

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        self.hosts.append(request.headers.get("host", ""))
        delivery = request.headers.get("x-settle-delivery", "")
        earlier = [h for h in self.on(path) if h.delivery == delivery]
        status = 200
        if path == "/flaky" and len(earlier) < self.fail_first:
            status = 500
        if path == "/slow":
            await asyncio.sleep(self.hang_s)
        self.hits.append(
            Hit(
                path,
                delivery,
                request.headers.get("x-settle-event", ""),
                request.headers.get("x-settle-signature", ""),
                body,
                time.monotonic(),
                status,
            )
        )
        return Response(status_code=status)


@asynccontextmanager
async def receiving(**kw):
    receiver = Receiver(**kw)
    routes = [Route(p, receiver._handle, methods=["POST"]) for p in ("/flaky", "/healthy", "/slow")]
    config = uvicorn.Config(
        Starlette(routes=routes),
        host="127.0.0.1",
        port=0,
        log_level="error",
        lifespan="off",
        timeout_graceful_shutdown=0.2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.base = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
