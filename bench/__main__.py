"""`python -m bench --mode quick|full [--only a,b] [--list] [--profile] [--out DIR]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from bench.config import MODES
from bench.harness.registry import ordered
from bench.harness.results import FAILED
from bench.harness.runner import run

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--only", help="comma-separated scenario names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the Settle processes under cProfile (slower; not for figures)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink the mode's sizes and timings (smoke tests only)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)  # fmt: skip
    scenarios = ordered()
    if args.list:
        for s in scenarios:
            print(f"{s.name:<22} {s.title}\n{'':<22} target: {s.target}")
        return 0
    names = [n.strip() for n in args.only.split(",")] if args.only else None
    unknown = set(names or ()) - {s.name for s in scenarios}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}; see --list")
    mode = MODES[args.mode] if args.scale == 1.0 else MODES[args.mode].scaled(args.scale)
    results, _ = asyncio.run(_main(mode, names, args.out, args.profile))
    return 1 if any(r.status == FAILED for r in results) else 0


async def _main(mode, names, out, profile):
    # SIGTERM behaves like Ctrl-C: scenarios unwind, processes stop, bench databases are dropped
    task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(mode, names, out, profile)


if __name__ == "__main__":
    sys.exit(main())
