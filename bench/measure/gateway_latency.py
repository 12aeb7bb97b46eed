"""How much the gateway adds to a call: N sequential GetCustomer calls made directly to accounts
over gRPC, through the gateway's gRPC proxy, and through its HTTP/JSON API; p50 and p99 of each.

    .venv/bin/python -m bench.measure.gateway_latency [N]

Accounts and the gateway run as separate processes (`python -m …`, as deployed) on SQLite in a
temporary directory; this process is only the client.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx

from common import actor as actors
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc
from tests.gateway.support import JWT, free_port, token


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"


def _cpu_s(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): robust where wall time is noisy."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(call, n: int, pid: int) -> tuple[list[float], float]:
    """Wall time of each call, and the gateway's CPU time per call."""
    for _ in range(min(50, n)):  # warm up connections and caches
        call()
    samples, cpu = [], _cpu_s(pid)
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples, (_cpu_s(pid) - cpu) / n


def _wait_accounts(url: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(url, timeout=2).json()["backends"]["accounts"] == "SERVING":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


def main(n: int = 1000) -> None:
    secret = "measure-internal-secret"
    with tempfile.TemporaryDirectory() as tmp:
        accounts, grpc_addr, http_addr = (f"127.0.0.1:{free_port()}" for _ in range(3))
        env = {
            **os.environ,
            "SETTLE_INTERNAL_SECRET": secret,
            "ACCOUNTS_ADDR": accounts,
            "ACCOUNTS_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'accounts.db'}",
            "GATEWAY_ADDR": grpc_addr,
            "GATEWAY_HTTP_ADDR": http_addr,
            "GATEWAY_JWT_HS256_SECRET": JWT.keys[0],
            "GATEWAY_JWT_ISSUER": JWT.issuer,
            "GATEWAY_JWT_AUDIENCE": JWT.audience,
            "LOG_LEVEL": "WARNING",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
        }
        py = sys.executable
        subprocess.run([py, "-m", "services.accounts", "migrate"], env=env, check=True)
        procs = [
            subprocess.Popen([py, "-m", m], env=env, stderr=subprocess.DEVNULL)
            for m in ("services.accounts", "gateway")
        ]
        try:
            _wait_accounts(f"http://{http_addr}/readyz")  # the other backends are not started
            headers = {"Authorization": f"Bearer {token('team_lead')}"}
            http = httpx.Client(base_url=f"http://{http_addr}", headers=headers)
            created = http.post("/v1/customers", json={"displayName": "Latency GmbH"}).json()
            name = created["name"]
            request = pb.GetCustomerRequest(name=name)

            direct = accounts_pb2_grpc.AccountsServiceStub(grpc.insecure_channel(accounts))
            signed = lambda: actors.sign(actors.Actor("user:measure", ("team_lead",)), secret)  # noqa: E731
            proxy = accounts_pb2_grpc.AccountsServiceStub(grpc.insecure_channel(grpc_addr))
            bearer = (("authorization", headers["Authorization"]),)
            runs = {
                "direct gRPC (accounts)": lambda: direct.GetCustomer(request, metadata=signed()),
                "gateway gRPC proxy": lambda: proxy.GetCustomer(request, metadata=bearer),
                "gateway HTTP/JSON": lambda: http.get(f"/v1/{name}").raise_for_status(),
            }
            gateway_pid = procs[1].pid
            results = {label: _timed(call, n, gateway_pid) for label, call in runs.items()}
            base = statistics.median(results["direct gRPC (accounts)"][0])
            print(
                f"{n} sequential GetCustomer calls, SQLite, loopback, {os.cpu_count()} CPUs, "
                f"load {os.getloadavg()[0]:.1f}"
            )
            for label, (samples, cpu) in results.items():
                added = (statistics.median(samples) - base) * 1000
                print(
                    f"  {label:<24} {_percentiles(samples)}   added p50 {added:+6.2f} ms"
                    f"   gateway CPU/call {cpu * 1000:5.2f} ms"
                )
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
