"""`make run`: migrate every service, start them and the gateway, stop them all on Ctrl-C.

Each process is started exactly as in production (`python -m services.<name>`), so what runs here
is what gets deployed; only the defaults (SQLite under var/, loopback ports) are for development.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.settings import PROJECT_ROOT, service_addr

SERVICES = ("accounts", "disputes", "escalation")
STOP_GRACE_S = 10


def present_services() -> list[str]:
    return [s for s in SERVICES if (PROJECT_ROOT / "services" / s / "__main__.py").exists()]


def migrate(services: list[str]) -> None:
    for service in services:
        subprocess.run([sys.executable, "-m", f"services.{service}", "migrate"], check=True)


async def wait_serving(address: str, timeout_s: float = 30) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while asyncio.get_running_loop().time() < deadline:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    return False


async def supervise(commands: dict[str, list[str]]) -> int:
    env = {**os.environ, "SETTLE_ENV": os.environ.get("SETTLE_ENV", "development")}
    procs = {
        name: await asyncio.create_subprocess_exec(*cmd, env=env) for name, cmd in commands.items()
    }
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    for name in (n for n in commands if n != "console"):  # the console is HTTP: it prints itself
        address = service_addr(name)
        ok = await wait_serving(address)
        print(
            f"  {name:<11} {'grpc://' + address:<28} {'ready' if ok else 'NOT READY'}", flush=True
        )
    if "gateway" in commands:
        http = os.environ.get("GATEWAY_HTTP_ADDR", "127.0.0.1:8080")
        print(f"  {'gateway':<11} http://{http:<21} OpenAPI: http://{http}/docs")
        print("  a token for curl:  make token ROLE=collector   (roles: see docs/gateway.md)")
    print("Ctrl-C stops everything.", flush=True)

    exited = asyncio.ensure_future(
        asyncio.wait(
            [asyncio.ensure_future(p.wait()) for p in procs.values()],
            return_when=asyncio.FIRST_COMPLETED,
        )
    )
    await asyncio.wait(
        [exited, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    crashed = [n for n, p in procs.items() if p.returncode not in (None, 0)]
    for proc in procs.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs.values())), STOP_GRACE_S)
    except TimeoutError:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
    if crashed:
        print(f"stopped because {', '.join(crashed)} exited unexpectedly", file=sys.stderr)
        return 1
    print("all stopped")
    return 0


def main() -> int:
    services = present_services()
    Path(PROJECT_ROOT / "var").mkdir(exist_ok=True)
    migrate(services)
    commands = {s: [sys.executable, "-m", f"services.{s}"] for s in services}
    if (PROJECT_ROOT / "gateway" / "__main__.py").exists():
        commands["gateway"] = [sys.executable, "-m", "gateway"]
    # the console's default port goes with the gateway's; a stack on other ports names CONSOLE_ADDR
    if (PROJECT_ROOT / "console" / "__main__.py").exists() and (
        os.environ.get("CONSOLE_ADDR") or not os.environ.get("GATEWAY_HTTP_ADDR")
    ):
        commands["console"] = [sys.executable, "-m", "console"]
    print("Settle is starting:", flush=True)
    return asyncio.run(supervise(commands))


if __name__ == "__main__":
    sys.exit(main())
