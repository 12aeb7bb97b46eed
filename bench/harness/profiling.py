"""Where a Settle process spends its CPU (`python -m bench --profile`): py-spy (a pinned dev
dependency) attaches to each service process for one extra, unmeasured repetition and samples the
stacks of threads that are running. Summaries go into the JSON and the table's notes; the raw
collapsed stacks stay in the work directory (flamegraph.pl or speedscope read them)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).with_name("py-spy")
RATE_HZ = 250
# Frame file → layer; the first match wins, so the more specific prefixes come first.
LAYERS = (
    ("opentelemetry/", "opentelemetry"),
    ("sqlalchemy/", "sqlalchemy"),
    ("greenlet", "sqlalchemy"),
    ("asyncpg/", "asyncpg"),
    ("grpc/", "grpc"),
    ("google/protobuf", "protobuf"),
    ("structlog/", "structlog"),
    ("asyncio/", "asyncio"),
    ("services/", "settle"),
    ("common/", "settle"),
    ("gateway/", "settle"),
)


def missing() -> str | None:
    return None if PY_SPY.exists() else f"py-spy not installed at {PY_SPY} (pip install py-spy)"


class Recording:
    """py-spy on one live process until stopped; --nonblocking so the target never pauses."""

    def __init__(self, pid: int, out: Path):
        self.out = out
        self.popen = subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw",
             "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    async def stop(self) -> None:
        self.popen.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            await asyncio.to_thread(self.popen.wait, 30)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def _layer(frame: str) -> str:
    location = frame.rsplit("(", 1)[-1]
    return next((layer for prefix, layer in LAYERS if prefix in location), "other")


def summarise(raw: Path, top: int = 15) -> dict:
    """Share of on-CPU samples per layer (self: the running frame; inclusive: anywhere on the
    stack) and the hottest functions."""
    stacks: Counter[str] = Counter()
    if raw.exists():
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks[stack] += int(count)
    total = sum(stacks.values())
    if not total:
        return {"samples": 0, "file": str(raw)}
    own, inclusive, functions = Counter(), Counter(), Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        own[_layer(frames[-1])] += count
        functions[frames[-1]] += count
        for layer in {_layer(f) for f in frames}:
            inclusive[layer] += count
    pct = lambda c: round(100 * c / total, 1)  # noqa: E731
    return {
        "samples": total,
        "file": str(raw),
        "self_pct": {k: pct(v) for k, v in own.most_common()},
        "inclusive_pct": {k: pct(v) for k, v in inclusive.most_common()},
        "hottest": [[f, pct(c)] for f, c in functions.most_common(top)],
    }


def one_line(process: str, summary: dict) -> str:
    if not summary.get("samples"):
        return f"{process}: no samples"
    layers = ", ".join(f"{k} {v}%" for k, v in list(summary["self_pct"].items())[:7])
    return f"profile {process} ({summary['samples']} samples), CPU by layer: {layers}"
