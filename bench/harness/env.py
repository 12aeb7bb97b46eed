"""What a scenario gets: the mode's sizes, PostgreSQL, a work directory for logs and files, shared
datasets, and process launching whose processes stop when the scenario ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config import Mode
from bench.harness import processes
from bench.harness.pg import Postgres
from bench.harness.processes import Proc


@dataclass
class BenchEnv:
    mode: Mode
    pg: Postgres
    work_dir: Path
    profile: bool = False
    stack: AsyncExitStack | None = None  # per scenario: stops its processes, closes its pools
    _shared: dict[str, Any] = field(default_factory=dict)

    async def shared(self, key: str, build: Callable[[], Awaitable[Any]]) -> Any:
        """A dataset built once per run and reused by every scenario that reads it."""
        if key not in self._shared:
            self._shared[key] = await build()
        return self._shared[key]

    @property
    def profile_dir(self) -> Path | None:
        """Where profiles go when profiling is on (see harness/profiling.py)."""
        return self.work_dir if self.profile else None

    async def start(
        self, name: str, module_argv: list[str], env: dict[str, str], address: str
    ) -> Proc:
        """Starts a process, waits until it is SERVING and stops it when the scenario ends."""
        proc = processes.spawn(name, module_argv, env, self.work_dir, address)
        self.stack.push_async_callback(processes.stop, proc)
        await processes.wait_serving(proc)
        return proc

    def on_exit(self, close: Callable[[], Awaitable[None]]) -> None:
        self.stack.push_async_callback(close)

    @asynccontextmanager
    async def phase(self) -> AsyncIterator[None]:
        """Processes and clients started inside stop when the block ends (not at the end of the
        scenario): keeps PostgreSQL connections, shared with other users, few at a time."""
        outer = self.stack
        async with AsyncExitStack() as inner:
            self.stack = inner
            try:
                yield
            finally:
                self.stack = outer
