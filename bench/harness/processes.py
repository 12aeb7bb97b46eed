"""Service processes started exactly as users start them (`python -m …`, configured by the
environment), each its own OS process so CPU and memory are measured per process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.settings import DEV_INTERNAL_SECRET, PROJECT_ROOT

# Variables that would change what a child does (exporters, samplers, databases, addresses) are
# dropped from the inherited environment; each scenario sets the ones it means explicitly.
_DROPPED_PREFIXES = ("OTEL_", "ACCOUNTS_", "DISPUTES_", "ESCALATION_", "GATEWAY_", "SETTLE_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(SETTLE_ENV="development", SETTLE_INTERNAL_SECRET=DEV_INTERNAL_SECRET)
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str  # role in the results, e.g. "accounts", "bare-data"
    address: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(name: str, module_argv: list[str], env: dict[str, str], log_dir: Path, address: str):
    """`module_argv` follows `python`, e.g. ["-m", "services.accounts"]."""
    log_path = log_dir / f"{name}-{int(time.time() * 1000)}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(
        [sys.executable, *module_argv],
        cwd=PROJECT_ROOT,
        env=child_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C on the bench does not hit the children mid-measurement
    )
    log.close()
    return Proc(name, address, popen, log_path)


async def wait_serving(proc: Proc, timeout_s: float = 60.0) -> None:
    """Until the standard gRPC health service says SERVING (the service's database answers)."""
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(proc.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n"
                                   f"{proc.log_tail()}")  # fmt: skip
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{proc.name} not SERVING after {timeout_s:.0f} s:\n{proc.log_tail()}")


async def stop(proc: Proc, timeout_s: float = 15.0) -> None:
    """SIGTERM (graceful shutdown, which also lets a profiler write its output), then SIGKILL."""
    if proc.popen.poll() is not None:
        return
    proc.popen.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.popen.wait, timeout_s)
    except subprocess.TimeoutExpired:
        proc.popen.kill()
        proc.popen.wait()
