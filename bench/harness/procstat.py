"""CPU time and memory of processes from /proc (Linux): per process, so a figure says which
process paid for an operation (client, service, PostgreSQL backend)."""

from __future__ import annotations

import os
from collections.abc import Mapping

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


Snapshot = dict[str, dict[int, tuple[float, float]]]


def snapshot(pids: Pids) -> Snapshot:
    return {
        role: {pid: cpu for pid in ids if (cpu := cpu_seconds(pid)) is not None}
        for role, ids in pids.items()
    }


def cpu_used(before: Snapshot, after: Snapshot) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds per role between two snapshots. A process that appeared in
    between (a new PostgreSQL backend) counts from zero; one that vanished in between is lost,
    which only happens when a pool closes a connection mid-run."""
    used: dict[str, tuple[float, float]] = {}
    for role, now in after.items():
        start = before.get(role, {})
        user = sum(max(0.0, u - start.get(pid, (0.0, 0.0))[0]) for pid, (u, _) in now.items())
        system = sum(max(0.0, s - start.get(pid, (0.0, 0.0))[1]) for pid, (_, s) in now.items())
        used[role] = (user, system)
    return used
