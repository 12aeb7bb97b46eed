"""The whole system started as `make run` starts it (`python -m tools.run_all`: the services, the
gateway and the console), on free loopback ports and throwaway databases, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.settings import PROJECT_ROOT
from tests.support.rpc import TEST_SECRET

SERVICES = ("accounts", "disputes", "escalation")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    process: asyncio.subprocess.Process
    log_path: Path
    addresses: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> str:
        return f"http://{self.env['GATEWAY_HTTP_ADDR']}"

    @property
    def console(self) -> str:
        return f"http://{self.env['CONSOLE_ADDR']}"

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_METRICS_PORT']}/metrics"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def _console_up(url: str) -> bool:
    async with httpx.AsyncClient(timeout=1) as client:
        try:
            return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False


async def _serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.aio.AioRpcError:
            return False


@asynccontextmanager
async def full_stack(workdir: Path, extra_env: dict[str, str] | None = None, timeout_s: float = 60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(SETTLE_ENV="development", SETTLE_INTERNAL_SECRET=TEST_SECRET, LOG_FORMAT="json")
    addresses = {}
    for service in (*SERVICES, "gateway"):
        addresses[service] = f"127.0.0.1:{free_port()}"
        env[f"{service.upper()}_ADDR"] = addresses[service]
        env[f"{service.upper()}_METRICS_PORT"] = str(free_port())
        if service != "gateway":
            env[f"{service.upper()}_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / service}.db"
    env["GATEWAY_HTTP_ADDR"] = f"127.0.0.1:{free_port()}"
    env["CONSOLE_ADDR"] = f"127.0.0.1:{free_port()}"  # its own port: stacks never share 8081
    env.update(extra_env or {})
    log_path = workdir / "stack.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.run_all",
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(env, process, log_path, addresses)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        for address in addresses.values():
            while not await _serving(address):
                if process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"the stack did not start:\n{stack.log()[-4000:]}")
                await asyncio.sleep(0.2)
        while not await _console_up(stack.console):
            if process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the console did not start:\n{stack.log()[-4000:]}")
            await asyncio.sleep(0.1)
        yield stack
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
