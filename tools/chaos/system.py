"""Every Settle process started as users start it (`python -m services.<name>`, `python -m
gateway`), each service on its own database of the private cluster, on loopback ports; killed
with SIGKILL and started again on demand."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.harness import processes
from bench.harness.processes import Proc
from common.settings import PROJECT_ROOT
from tools.chaos.pgcluster import PgCluster

SERVICES = ("accounts", "disputes", "escalation")
PROCESSES = (*SERVICES, "gateway")
# The sweepers look for due milestones this often (seconds), so firings are late by little.
SWEEP_POLL_S = "0.25"


@dataclass
class System:
    cluster: PgCluster
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def http(self) -> str:
        return f"http://{self.env['GATEWAY_HTTP_ADDR']}"

    def database(self, service: str) -> str:
        return f"settle_{service}"

    def dsn(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.cluster.port}/{self.database(service)}"

    async def create_databases(self) -> None:
        admin = await asyncpg.connect(self.cluster.admin_dsn)
        try:
            for service in SERVICES:
                await admin.execute(f'CREATE DATABASE "{self.database(service)}"')
        finally:
            await admin.close()
        for name in (*PROCESSES, "gateway_http"):
            self.env[f"{name.upper()}_ADDR"] = f"127.0.0.1:{processes.free_port()}"
        for service in SERVICES:
            self.env[f"{service.upper()}_DATABASE_URL"] = self.cluster.url(self.database(service))
            self.env[f"{service.upper()}_METRICS_PORT"] = str(processes.free_port())
        self.env["GATEWAY_METRICS_PORT"] = str(processes.free_port())
        self.env["DISPUTES_SWEEP_POLL_S"] = SWEEP_POLL_S
        for service in SERVICES:  # each service's own migrations, as the deployment job runs them
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", f"services.{service}", "migrate"],
                cwd=PROJECT_ROOT,
                env=processes.child_env(self.env),
                check=True,
                capture_output=True,
            )

    def _module(self, name: str) -> list[str]:
        return ["-m", "gateway" if name == "gateway" else f"services.{name}"]

    async def start(self, name: str) -> None:
        proc = processes.spawn(
            name, self._module(name), self.env, self.log_dir, self.env[f"{name.upper()}_ADDR"]
        )
        self.procs[name] = proc
        await processes.wait_serving(proc)

    async def start_all(self) -> None:
        for name in PROCESSES:
            await self.start(name)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, whatever was in flight is cut where it stood."""
        proc = self.procs[name]
        proc.popen.kill()
        proc.popen.wait()

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            await processes.stop(proc)
