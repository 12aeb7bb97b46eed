"""A gateway in front of real backends, served from a background event loop so that tests (and
Hypothesis) drive it synchronously with httpx and the gRPC client, as front-ends would."""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
import httpx

from common.rpc.server import RunningServer
from common.settings import PROJECT_ROOT, Settings
from gateway.auth.apikeys import ApiKey, digest
from gateway.auth.tokens import mint
from gateway.catalog import load_catalog
from gateway.limits import LimitSettings
from gateway.server import Gateway
from gateway.settings import GatewaySettings, JwtSettings
from tests.support.rpc import TEST_SECRET

JWT = JwtSettings("HS256", ("gateway-test-secret-with-32-bytes-or-more",), "settle-test", "gw")
API_KEY = "settle_test-service-account-key"
TEAM_OF = {"sales": "SALES", "gbs": "GBS", "legal": "LEGAL"}
NOWHERE = "127.0.0.1:1"  # nothing listens there
# Tests drive hundreds of calls a second under one subject; tests/gateway/test_limits.py sets
# tight limits of its own.
LOOSE_LIMITS = LimitSettings(rate_per_s=100_000, burst=100_000, concurrency=1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(
    roles: str | tuple[str, ...],
    team: str | None = None,
    subject: str = "alice",
    jwt: JwtSettings = JWT,
    ttl_s: float = 6 * 3600,  # outlives a slow full run: some are made when a module is imported
    now: float | None = None,
) -> str:
    roles = (roles,) if isinstance(roles, str) else roles
    team = team if team is not None else next((TEAM_OF[r] for r in roles if r in TEAM_OF), "")
    return mint(jwt, subject, list(roles), team, ttl_s=ttl_s, now=now)


def bearer(roles: str | tuple[str, ...], team: str | None = None, **kw) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(roles, team, **kw)}"}


def gateway_settings(backends: dict[str, str], **overrides) -> GatewaySettings:
    base = Settings(
        service="gateway",
        database_url="",
        listen_addr="127.0.0.1:0",
        development=True,
        internal_secret=TEST_SECRET,
        log_level="WARNING",
        downstream=backends,
    )
    settings = GatewaySettings(
        base=base,
        http_addr="127.0.0.1:0",
        jwt=JWT,
        api_keys=(ApiKey("erp-sync", digest(API_KEY), ("gbs",), "GBS"),),
        cors_origins=("http://front.example",),
        deadline_s=3.0,
        upload_deadline_s=10.0,
        stream_deadline_s=10.0,
        max_body_bytes=64 * 1024,
        max_upload_bytes=256 * 1024,
        protos_dir=PROJECT_ROOT / "protos",
        limits=LOOSE_LIMITS,
    )
    return replace(settings, **overrides)


class LoopThread:
    """An event loop on its own thread: the servers live there, tests call in from outside."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="servers", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def make(self, factory, *args):
        """Objects holding gRPC channels or servers belong to the loop they are made on."""

        async def inside():
            return factory(*args)

        return self.run(inside())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Stack:
    loop: LoopThread
    gateway: Gateway
    backends: dict[str, RunningServer]
    addresses: dict[str, str]
    restarts: dict = field(default_factory=dict)  # name → makes that backend again, same db
    http: httpx.Client = field(init=False)
    channel: grpc.Channel = field(init=False)

    def __post_init__(self):
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.gateway.http_port}", timeout=15)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.gateway.grpc_port}")

    def stop_backend(self, name: str) -> None:
        self.loop.run(self.backends.pop(name).stop())

    def start_backend(self, name: str) -> None:
        self.backends[name] = self.restarts[name]()
        self.loop.run(self.backends[name].start())

    def close(self) -> None:
        self.http.close()
        self.channel.close()
        self.loop.run(self.gateway.stop())
        for server in self.backends.values():
            self.loop.run(server.stop())


def _backend_settings(name: str, database_url: str, addresses: dict[str, str]) -> Settings:
    return Settings(
        service=name,
        database_url=database_url,
        listen_addr=addresses[name],
        development=True,
        internal_secret=TEST_SECRET,
        log_level="WARNING",
        downstream=addresses,
        workers_enabled=False,
    )


@contextmanager
def running_stack(
    database_factory,
    gateway_overrides: dict | None = None,
    fakes: dict | None = None,
    real: bool = True,
    tracer_provider=None,
    meter_provider=None,
):
    """A gateway in front of every backend present in gen/, each started with its own
    server.assemble on SQLite. `fakes` (name → factory of a server with start()/stop()) replace
    real backends; with `real=False` the others are left unreachable."""
    loop = LoopThread()
    names = load_catalog().backends
    addresses = {name: f"127.0.0.1:{free_port()}" if real else NOWHERE for name in names}
    servers: dict[str, RunningServer] = {}
    restarts = {}
    for name, factory in (fakes or {}).items():
        servers[name] = loop.make(factory)
        addresses[name] = f"127.0.0.1:{loop.run(servers[name].start())}"
    for name in names:
        present = Path(PROJECT_ROOT, "services", name, "server.py").exists()
        if not real or name in servers or not present:
            continue  # a proto whose service is not written yet: the gateway answers 503
        assemble = importlib.import_module(f"services.{name}.server").assemble
        backend = _backend_settings(name, database_factory.new_url("sqlite", name), addresses)
        restarts[name] = lambda assemble=assemble, backend=backend: RunningServer(
            loop.make(assemble, backend).process
        )
        servers[name] = restarts[name]()
        loop.run(servers[name].start())
    settings = gateway_settings(addresses, **(gateway_overrides or {}))
    gateway = loop.make(Gateway, settings, None, tracer_provider, meter_provider)
    loop.run(gateway.start())
    stack = Stack(loop, gateway, servers, addresses, restarts)
    try:
        yield stack
    finally:
        stack.close()
        loop.close()


ZERO_ID = "0" * 32  # a well-formed id that names nothing
GATEWAY_DOMAIN = "gateway.settle.app"


def sample_path(route) -> str:
    """A concrete path for a route's template, with well-formed ids that name nothing."""
    from gateway.routing import Variable

    def fill(segments):
        return "/".join(ZERO_ID if s in ("*", "**") else s for s in segments)

    parts = [
        fill(s.segments) if isinstance(s, Variable) else fill([s]) for s in route.template.segments
    ]
    return "/" + "/".join(parts) + (f":{route.template.verb}" if route.template.verb else "")


def error_info(body: dict) -> dict:
    """The google.rpc.ErrorInfo of an HTTP error body ({} when there is none)."""
    details = body.get("error", {}).get("details", [])
    return next((d for d in details if d.get("@type", "").endswith("google.rpc.ErrorInfo")), {})


def grpc_error_info(error: grpc.RpcError) -> dict:
    from google.rpc import error_details_pb2, status_pb2

    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return {"reason": info.reason, "domain": info.domain}
    return {}


def ok(response: httpx.Response) -> dict:
    assert response.is_success, response.text
    return response.json()


def create_invoice(stack: Stack, customer: str, number: str, amount: str, headers) -> dict:
    return ok(
        stack.http.post(
            "/v1/invoices",
            headers=headers,
            json={
                "customer": customer,
                "externalNumber": number,
                "invoiceDate": "2026-01-05",
                "dueDate": "2026-02-04",
                "amount": {"currencyCode": "EUR", "amount": amount},
            },
        )
    )


def raise_escalation(stack: Stack, team: str, headers) -> dict:
    """An escalation of a fresh subject to `team`, raised by whoever `headers` authenticate."""
    return ok(
        stack.http.post(
            "/v1/escalations:raise",
            headers=headers,
            json={
                "subject": f"customers/{uuid.uuid4().hex}",
                "team": team,
                "reasonCode": "PRICING_AUTHORITY",
                "severity": "HIGH",
                "summary": "Is this price agreed?",
            },
        )
    )
