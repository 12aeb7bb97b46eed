"""What tracing costs on one path: N sequential GetCustomer calls to an in-process accounts server
(SQLite), per tracing mode, each mode in its own process (global providers are per process).

    .venv/bin/python -m bench.measure.tracing_cost [calls] [rounds]

Wall-clock rate and latency suffer from whatever else the machine runs; the process CPU time
per call (client and server share the process; the client part is the same in every mode) is the
steadier measure of what tracing adds. Modes: disabled (OTEL_SDK_DISABLED); off (no exporter:
Settle's default records nothing new); sampled-out (exporter set, parentbased_traceidratio 0);
sampled (every call exported by OTLP to a receiver in the parent process). Calls carry no trace
context, so the server decides.
Not a test (no assertions); numbers go in docs/sre.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MODES = {
    "disabled": {"OTEL_SDK_DISABLED": "true"},
    "off": {},
    "sampled-out": {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                    "OTEL_TRACES_SAMPLER_ARG": "0"},
    "sampled": {"OTEL_TRACES_SAMPLER": "parentbased_always_on"},
}  # fmt: skip


async def _measure(calls: int, database_url: str) -> dict:
    import grpc

    from common import actor as actors
    from common.rpc.server import RunningServer
    from common.settings import Settings
    from common.telemetry import setup_telemetry
    from services.accounts.server import assemble
    from settle.accounts.v1 import accounts_pb2 as pb
    from settle.accounts.v1 import accounts_pb2_grpc

    telemetry = setup_telemetry("accounts")
    settings = Settings("accounts", database_url, "127.0.0.1:0", True, "s", "WARNING")
    server = RunningServer(assemble(settings, telemetry).process)
    port = await server.start()
    signed = actors.sign(actors.Actor("user:bench", ("admin",)), "s")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = accounts_pb2_grpc.AccountsServiceStub(ch)
        customer = pb.Customer(display_name="Bench", country_code="DE", currency_code="EUR",
                               time_zone="Europe/Berlin")  # fmt: skip
        created = await stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=customer), metadata=signed
        )
        request = pb.GetCustomerRequest(name=created.name)
        for _ in range(50):  # warm-up: connections, caches
            await stub.GetCustomer(request, metadata=signed)
        latencies = []
        cpu_started, started = time.process_time(), time.perf_counter()
        for _ in range(calls):
            t = time.perf_counter()
            await stub.GetCustomer(request, metadata=signed)
            latencies.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # client and server: the same in every mode
    await server.stop()
    await telemetry.shutdown()
    latencies.sort()
    return {
        "rate": calls / elapsed,
        "cpu_ms": cpu / calls * 1000,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def _child() -> None:
    calls, url = int(sys.argv[2]), sys.argv[3]
    logging_off = {"LOG_LEVEL": "WARNING"}
    os.environ.update(logging_off)
    print(json.dumps(asyncio.run(_measure(calls, url))))


def main() -> None:
    from tests.support.databases import DatabaseFactory
    from tests.support.otlp import OtlpReceiver

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    factory = DatabaseFactory(__import__("pathlib").Path(tempfile.mkdtemp()))
    results: dict[str, list[dict]] = {m: [] for m in MODES}
    with OtlpReceiver() as receiver:
        for _ in range(rounds):  # modes interleaved, so background load spreads over all
            for mode, settings in MODES.items():
                env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
                env.update(settings)
                if mode in ("sampled-out", "sampled"):
                    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
                url = factory.new_url("sqlite", "accounts")
                out = subprocess.run(
                    [sys.executable, "-m", "bench.measure.tracing_cost", "--child",
                     str(calls), url], env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        exported = len(receiver.spans)
    print(f"{calls} sequential GetCustomer calls, best of {rounds} rounds (median in brackets)")
    for mode, runs in results.items():
        best = max(runs, key=lambda r: r["rate"])

        def med(key: str, runs=runs) -> float:
            return statistics.median(r[key] for r in runs)

        print(f"  {mode:<12} {best['rate']:7.0f}/s [{med('rate'):5.0f}]  "
              f"p50 {best['p50_ms']:5.2f} ms [{med('p50_ms'):5.2f}]  "
              f"p99 {best['p99_ms']:5.2f} ms [{med('p99_ms'):5.2f}]  "
              f"CPU/call {min(r['cpu_ms'] for r in runs):5.2f} ms "
              f"[{med('cpu_ms'):5.2f}]")  # fmt: skip
    print(f"  spans received: {exported}")


if __name__ == "__main__":
    _child() if sys.argv[1:2] == ["--child"] else main()
