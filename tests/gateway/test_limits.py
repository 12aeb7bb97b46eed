"""Per-caller limits at the gateway: a caller over its rate or its calls in flight is answered
429 / RESOURCE_EXHAUSTED with Retry-After (and counted), and one client flooding does not starve
another."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import grpc
import httpx
import pytest
from opentelemetry import metrics as metrics_api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from gateway.limits import GATEWAY_LIMITED, Exhausted, Limiter, LimitMetrics, LimitSettings
from gen.settle.accounts.v1 import accounts_pb2, accounts_pb2_grpc
from tests.gateway.support import bearer, error_info, grpc_error_info, ok, running_stack, token

LIMITS = LimitSettings(rate_per_s=20, burst=20, concurrency=2)
QUIET = bearer("team_lead", subject="quiet")
FLOODER = bearer("team_lead", subject="flooder")
WINDOW_S = 2.0
ROUNDS = 3  # quiet window, flood window, three times: the machine's own noise falls on both
# The flooder runs in a process of its own (threads here would fight the gateway for the GIL):
# six connections, each sending as fast as answers come (ignoring Retry-After) during the second
# window of each round. It prints the statuses it got and the Retry-After values.
FLOOD = """
import json, sys, threading, time
import httpx
base_url, authorization, start, window, rounds = sys.argv[1:]
start, window, rounds = float(start), float(window), int(rounds)
statuses, retry_after = [], set()
def flooding(now):
    k, into = divmod(now - start, 2 * window)
    return k < rounds and into >= window
def flood():
    with httpx.Client(base_url=base_url, headers={"Authorization": authorization}) as client:
        while time.time() < start + 2 * window * rounds:
            if not flooding(time.time()):
                time.sleep(0.01)
                continue
            response = client.get("/v1/customers")
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.add(response.headers.get("retry-after", ""))
threads = [threading.Thread(target=flood) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps([statuses, sorted(retry_after)]))
"""
QUIET_GAP_S = 0.05  # the quiet client: under 20 calls a second (its limit), one at a time


@pytest.fixture(scope="module")
def limited(database_factory):
    reader = InMemoryMetricReader()
    with running_stack(
        database_factory,
        gateway_overrides={"limits": LIMITS},
        meter_provider=MeterProvider(metric_readers=[reader]),
    ) as stack:
        stack.reader = reader
        yield stack


def _limited_count(reader) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == GATEWAY_LIMITED:
                    for point in metric.data.data_points:
                        counts[point.attributes["limit"]] = point.value
    return counts


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def _quiet_calls(base_url: str, path: str, start: float) -> dict[bool, list]:
    """Latencies and statuses of the quiet client's calls, by whether the flood was on."""
    samples: dict[bool, list] = {False: [], True: []}
    with httpx.Client(base_url=base_url, headers=QUIET, timeout=10) as client:
        while (now := time.time()) < start + 2 * WINDOW_S * ROUNDS:
            flooding = now >= start and (now - start) % (2 * WINDOW_S) >= WINDOW_S
            started = time.perf_counter()
            response = client.get(path)
            samples[flooding].append((time.perf_counter() - started, response.status_code))
            time.sleep(QUIET_GAP_S)
    return samples


def test_a_flooding_caller_is_refused_and_the_quiet_one_keeps_its_latency(limited):
    base_url = str(limited.http.base_url)
    customer = ok(
        limited.http.post(
            "/v1/customers",
            headers=QUIET,
            json={"displayName": "Quiet", "countryCode": "DE", "currencyCode": "EUR"},
        )
    )
    path = f"/v1/{customer['name']}"
    start = time.time() + 1.5  # the flooder's process is up by then
    argv = [base_url, FLOODER["Authorization"], str(start), str(WINDOW_S), str(ROUNDS)]
    flood = subprocess.Popen(
        [sys.executable, "-c", FLOOD, *argv], stdout=subprocess.PIPE, text=True
    )
    try:
        samples = _quiet_calls(base_url, path, start)
    finally:
        out, _ = flood.communicate(timeout=30)
    flood_statuses, retry_after = json.loads(out)
    quiet = [latency for latency, _ in samples[False]]
    loaded = [latency for latency, _ in samples[True]]
    assert _p99(loaded) <= 2 * _p99(quiet), (_p99(quiet), _p99(loaded))
    assert flood_statuses.count(429) > 0 and set(flood_statuses) <= {200, 429}
    assert retry_after and all(v.isdigit() and int(v) >= 1 for v in retry_after)
    assert {status for _, status in samples[False] + samples[True]} == {200}
    assert sum(_limited_count(limited.reader).values()) >= flood_statuses.count(429)


def test_over_grpc_a_caller_over_its_rate_gets_resource_exhausted_with_retry_after(limited):
    stub = accounts_pb2_grpc.AccountsServiceStub(limited.channel)
    metadata = (("authorization", f"Bearer {token('team_lead', subject='grpc-flooder')}"),)
    calls = 0
    with pytest.raises(grpc.RpcError) as refusal:  # the refill (20/s) cannot keep up for long
        while calls < 10 * LIMITS.burst:
            stub.ListCustomers(accounts_pb2.ListCustomersRequest(), metadata=metadata, timeout=5)
            calls += 1
    assert calls >= LIMITS.burst
    refused = refusal.value
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(refused.trailing_metadata())["retry-after"] == "1"
    assert grpc_error_info(refused)["reason"] == "RATE_LIMITED"


def test_requests_that_do_not_authenticate_are_limited_by_address(limited):
    statuses = []
    while len(statuses) < 10 * LIMITS.burst and 429 not in statuses:
        response = limited.http.get("/v1/customers", headers={"Authorization": "Bearer nonsense"})
        statuses.append(response.status_code)
    assert statuses[: LIMITS.burst] == [401] * LIMITS.burst
    assert statuses[-1] == 429
    assert error_info(response.json())["reason"] == "RATE_LIMITED"


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(**settings) -> tuple[Limiter, _Clock, list[str]]:
    refused: list[str] = []
    metrics = LimitMetrics(metrics_api.NoOpMeter("test"))
    metrics.limited = refused.append
    clock = _Clock()
    return Limiter(LimitSettings(**settings), metrics, clock), clock, refused


def test_the_bucket_allows_a_burst_then_the_sustained_rate():
    limiter, clock, refused = _limiter(rate_per_s=2, burst=3, concurrency=1)
    for _ in range(3):
        limiter.take("user:a")
    with pytest.raises(Exhausted) as refusal:
        limiter.take("user:a")
    assert refusal.value.http_status == 429 and refusal.value.headers == {"Retry-After": "1"}
    limiter.take("user:b")  # another caller has its own bucket
    clock.now += 0.5  # one token back at 2/s
    limiter.take("user:a")
    with pytest.raises(Exhausted):
        limiter.take("user:a")
    assert refused == ["rate", "rate"]


def test_calls_in_flight_are_capped_per_caller_and_released():
    limiter, _, refused = _limiter(rate_per_s=1, burst=1, concurrency=2)
    with limiter.in_flight("user:a"), limiter.in_flight("user:a"):
        with pytest.raises(Exhausted) as refusal, limiter.in_flight("user:a"):
            pass
        assert refusal.value.reason == "TOO_MANY_CONCURRENT_CALLS"
        with limiter.in_flight("user:b"):
            pass
    with limiter.in_flight("user:a"):
        pass
    assert refused == ["concurrency"]
