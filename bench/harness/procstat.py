"""CPU time and memory of processes from /proc (Linux): per process, so a figure says which
process paid for an operation (client, service, PostgreSQL backend)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Pids = Mapping[str, list[int]]  # role ("client", "accounts", "postgres", …) → its processes


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU seconds of a live process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def memory_mb(pid: int) -> dict[str, float] | None:
    """Current (VmRSS) and peak (VmHWM) resident memory, in MB (10^6 bytes, as targets are)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found["rss" if key == "VmRSS" else "peak"] = int(value.split()[0]) * 1024 / 1e6
    return found or None


def machine_ticks() -> tuple[int, int]:
    """(idle, total) clock ticks of every CPU since boot (/proc/stat): the machine's idle share
    over a window tells whether the cores were the limit, whoever used them."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)  # idle + iowait


def idle_share(start: tuple[int, int], end: tuple[int, int]) -> float:
    total = end[1] - start[1]
    return (end[0] - start[0]) / total if total > 0 else 0.0


Snapshot = dict[str, dict[int, tuple[float, float]]]


def snapshot(pids: Pids) -> Snapshot:
    return {
        role: {pid: cpu for pid in ids if (cpu := cpu_seconds(pid)) is not None}
        for role, ids in pids.items()
    }


class CpuTracker:
    """(user, system) CPU seconds per role over a window, sampled every `interval_s`: a process
    that appears during the window counts from zero, and one that exits keeps what it had at its
    last sample — pools open and close PostgreSQL connections under load, and each connection is
    a backend process whose CPU would otherwise be lost."""

    def __init__(self, roles: Callable[[], Awaitable[Pids]], interval_s: float = 0.2):
        self.roles, self.interval_s = roles, interval_s
        self.first: dict[int, tuple[float, float]] = {}
        self.last: dict[int, tuple[str, tuple[float, float]]] = {}
        self._task: asyncio.Task | None = None

    async def _sample(self, at_start: bool = False) -> None:
        for role, pids in snapshot(await self.roles()).items():
            for pid, cpu in pids.items():
                if pid not in self.first:
                    self.first[pid] = cpu if at_start else (0.0, 0.0)
                self.last[pid] = (role, cpu)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self._sample()

    async def __aenter__(self) -> CpuTracker:
        await self._sample(at_start=True)
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._sample()

    def used(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, list[float]] = {}
        for pid, (role, (user, system)) in self.last.items():
            start = self.first[pid]
            cell = totals.setdefault(role, [0.0, 0.0])
            cell[0] += max(0.0, user - start[0])
            cell[1] += max(0.0, system - start[1])
        return {role: (u, s) for role, (u, s) in totals.items()}
