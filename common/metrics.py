"""Settle's metrics: every instrument defined once, with a stable name, unit and attribute set.

Services never create instruments; they get a `SettleMetrics` from their composition root
(`telemetry.metrics`, or `SettleMetrics.noop()` in tests that do not look at metrics) and call its
small methods. Names are OpenTelemetry's; the Prometheus endpoint shows them with dots as
underscores and the unit appended (docs/sre.md lists both).

Metric attributes are short (`clock`, `team`, ...) because they become the labels SRE writes in
PromQL; span attributes are namespaced (`settle.clock.kind`, see common/tracing.py) because spans
share one namespace with every library's attributes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from functools import lru_cache, partial
from types import MappingProxyType
from typing import Any

import structlog
from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation

from common.workers import Wake, run_worker

log = structlog.get_logger("settle.metrics")

HTTP_SERVER_DURATION = "http.server.request.duration"
RPC_SERVER_DURATION = "rpc.server.duration"
SLA_WARNINGS = "settle.sla.warnings"
SLA_BREACHES = "settle.sla.breaches"
TIME_TO_BREACH = "settle.sla.time_to_breach"
TIME_TO_RESOLVE = "settle.case.time_to_resolve"
OUTBOX_DELIVERIES = "settle.outbox.deliveries"
CASES_OPEN = "settle.cases.open"
ESCALATIONS_OPEN = "settle.escalations.open"
OUTBOX_PENDING = "settle.outbox.pending"
OUTBOX_DEAD = "settle.outbox.dead"
OUTBOX_LAG = "settle.outbox.lag"
OUTBOX_PARKED = "settle.outbox.parked"
OUTBOX_OLDEST_AGE = "settle.outbox.oldest_age"
SWEEPER_LAG = "settle.sweeper.lag"
PROMISES = "settle.promises"
PROMISES_BROKEN = "settle.promises.broken"
WORKLIST_SIZE = "settle.worklist.size"
WORKLIST_COMPLETION = "settle.worklist.completion"

# Observable gauges: name -> (unit, description, attribute names). Values come from `report`,
# `observe` or `poll`; a reading with other attributes is refused, so label sets stay stable.
GAUGES: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    CASES_OPEN: ("{case}", "Open dispute cases, by status and team", ("status", "team")),
    ESCALATIONS_OPEN: ("{escalation}", "Open escalations, by status and team", ("status", "team")),
    OUTBOX_PENDING: (
        "{event}",
        "Outbox events not yet delivered, by destination and method",
        ("destination", "method"),
    ),
    OUTBOX_PARKED: (
        "{event}",
        "Outbox events parked for a person, by destination and method",
        ("destination", "method"),
    ),
    OUTBOX_OLDEST_AGE: (
        "s",
        "Age of the oldest pending outbox event, by destination and method",
        ("destination", "method"),
    ),
    # Per-destination roll-ups of the two above, which the alerts use.
    OUTBOX_DEAD: ("{event}", "Outbox events parked for a person", ("destination",)),
    OUTBOX_LAG: ("s", "Age of the oldest undelivered outbox event", ("destination",)),
    SWEEPER_LAG: ("s", "Now minus the due time of the oldest due, unfired SLA clock event", ()),
    PROMISES: ("{promise}", "Promises to pay, by state", ("state",)),
    WORKLIST_SIZE: (
        "{customer}",
        "Customers on a collector's list today: still to contact plus done for the day",
        ("collector",),
    ),
    WORKLIST_COMPLETION: (
        "1",
        "Share of a collector's list done for the day (done / size; 1 for an empty list)",
        ("collector",),
    ),
}
# SLA durations run from minutes to weeks; RPC latency keeps the SDK's default (ms) buckets.
SLA_BUCKETS_S = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800,
                 1209600, 2592000)  # fmt: skip
SLA_KINDS = ("warning", "breach")
DELIVERY_OUTCOMES = ("delivered", "retry", "dead")

Reading = tuple[float, Mapping[str, str]]  # a gauge value and its attributes
Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def _attrs(**values) -> dict[str, str]:
    # OpenTelemetry drops None-valued attributes with a warning; an unknown value is "".
    return {k: "" if v is None else str(v) for k, v in values.items()}


class RpcMetrics:
    """Latency, rate and errors per RPC, recorded by the server interceptor only: the
    OpenTelemetry grpc instrumentation records spans, not metrics, so nothing counts twice."""

    def __init__(self, meter: Meter):
        self._duration = meter.create_histogram(
            RPC_SERVER_DURATION, unit="ms", description="Duration of inbound RPCs"
        )

    def record(self, full_method: str, status_code: int, seconds: float) -> None:
        self._duration.record(seconds * 1000.0, self._attributes(full_method, status_code))

    @staticmethod
    @lru_cache(maxsize=1024)
    def _attributes(full_method: str, status_code: int) -> Mapping[str, str | int]:
        """Built once per method and code (the SDK copies them; nothing writes to this one)."""
        service, _, method = full_method.lstrip("/").partition("/")
        return MappingProxyType(
            {
                "rpc.system": "grpc",
                "rpc.service": service,
                "rpc.method": method,
                "rpc.grpc.status_code": status_code,
            }
        )


class HttpMetrics:
    """Latency, rate and errors per HTTP route at the gateway (OpenTelemetry HTTP semantic
    conventions: seconds, http.request.method, http.route, http.response.status_code)."""

    def __init__(self, meter: Meter):
        self._duration = meter.create_histogram(
            HTTP_SERVER_DURATION, unit="s", description="Duration of inbound HTTP requests"
        )

    def record(self, method: str, route: str, status_code: int, seconds: float) -> None:
        self._duration.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status_code,
            },
        )


class SettleMetrics:
    def __init__(self, meter: Meter):
        self._sla = {
            "warning": meter.create_counter(
                SLA_WARNINGS, unit="{warning}", description="SLA clocks that reached their warning"
            ),
            "breach": meter.create_counter(
                SLA_BREACHES, unit="{breach}", description="SLA clocks that breached their target"
            ),
        }
        self._time_to_breach = meter.create_histogram(
            TIME_TO_BREACH,
            unit="s",
            description="From clock start to breach",
            explicit_bucket_boundaries_advisory=SLA_BUCKETS_S,
        )
        self._time_to_resolve = meter.create_histogram(
            TIME_TO_RESOLVE,
            unit="s",
            description="From case creation to resolution",
            explicit_bucket_boundaries_advisory=SLA_BUCKETS_S,
        )
        self._deliveries = meter.create_counter(
            OUTBOX_DELIVERIES, unit="{attempt}", description="Outbox delivery attempts by outcome"
        )
        self._broken = meter.create_counter(
            PROMISES_BROKEN, unit="{promise}", description="Promises to pay judged BROKEN"
        )
        # Gauge values are read on the exporters' threads (Prometheus scrape, OTLP export).
        self._lock = threading.Lock()
        self._latest: dict[str, list[Reading]] = {name: [] for name in GAUGES}
        self._sources: dict[str, list[Callable[[], Iterable[Reading]]]] = {n: [] for n in GAUGES}
        for name, (unit, description, _) in GAUGES.items():
            meter.create_observable_gauge(
                name, callbacks=[partial(self._collect, name)], unit=unit, description=description
            )

    @classmethod
    def noop(cls) -> SettleMetrics:
        """For code paths built without telemetry (unit tests): every call does nothing."""
        return cls(NoOpMeterProvider().get_meter("settle"))

    # -- events ---------------------------------------------------------------------------------
    def sla_event(self, kind: str, *, clock: str, reason: str, team: str, policy: str) -> None:
        """One SLA warning or breach (kind "warning" | "breach")."""
        if kind not in self._sla:
            raise ValueError(f"kind must be one of {SLA_KINDS}, not {kind!r}")
        self._sla[kind].add(1, _attrs(clock=clock, reason=reason, team=team, policy=policy))

    def time_to_breach(self, seconds: float, *, clock: str, team: str, policy: str) -> None:
        self._time_to_breach.record(seconds, _attrs(clock=clock, team=team, policy=policy))

    def time_to_resolve(
        self, seconds: float, *, reason: str, team: str, policy: str, outcome: str
    ) -> None:
        self._time_to_resolve.record(
            seconds, _attrs(reason=reason, team=team, policy=policy, outcome=outcome)
        )

    def outbox_delivery(self, destination: str, outcome: str) -> None:
        """One delivery attempt: "delivered", "retry" (will be tried again) or "dead"."""
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(f"outcome must be one of {DELIVERY_OUTCOMES}, not {outcome!r}")
        self._deliveries.add(1, _attrs(destination=destination, outcome=outcome))

    def promises_broken(self, count: int) -> None:
        """Promises the evaluator judged BROKEN in one pass (per day: increase over 1d)."""
        if count:
            self._broken.add(count)

    # -- gauges ---------------------------------------------------------------------------------
    def report(self, name: str, readings: Iterable[tuple[float, Mapping[str, object]]]) -> None:
        """Replaces the current values of a gauge (attribute sets not reported again vanish)."""
        values = [self._reading(name, v, a) for v, a in readings]
        with self._lock:
            self._latest[self._known(name)] = values

    def observe(self, name: str, callback: Callable[[], Iterable[Reading]]) -> None:
        """Adds a source read at every collection. It runs on an exporter thread: it must be
        quick and thread-safe (read a variable; never the database)."""
        with self._lock:
            self._sources[self._known(name)].append(callback)

    def poll(
        self,
        names: Iterable[str],
        read: Callable[[], Awaitable[Mapping[str, Iterable[Reading]]]],
        every_s: float = 15.0,
    ) -> Worker:
        """A background worker (for `ServiceProcess.workers`) that runs an async query every
        `every_s` and reports its readings for `names`. When the query fails the gauges report
        nothing rather than stale values, so an `absent()` alert notices."""
        names = tuple(self._known(n) for n in names)

        async def report_once() -> float:
            try:
                readings = await read()
                for name in names:
                    self.report(name, readings.get(name, ()))
            except Exception:  # the worker lives on; the next poll may succeed
                log.warning("metrics query failed", gauges=names, exc_info=True)
                for name in names:
                    self.report(name, ())
            return every_s

        async def worker(stop: asyncio.Event) -> None:
            await run_worker("metrics poll", report_once, stop, Wake(), retry_s=every_s)

        return worker

    def _reading(self, name: str, value: float, attributes: Mapping[str, object]) -> Reading:
        expected = GAUGES[self._known(name)][2]
        if set(attributes) != set(expected):
            raise ValueError(f"{name} takes attributes {expected}, not {tuple(attributes)}")
        return float(value), _attrs(**attributes)

    def _known(self, name: str) -> str:
        if name not in GAUGES:
            raise KeyError(f"{name!r} is not one of Settle's gauges: {sorted(GAUGES)}")
        return name

    def _collect(self, name: str, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            readings = list(self._latest[name])
            sources = list(self._sources[name])
        for source in sources:
            try:
                readings.extend(self._reading(name, v, a) for v, a in source())
            except Exception:  # one broken source must not hide the others
                log.warning("gauge source failed", gauge=name, exc_info=True)
        return [Observation(value, attributes) for value, attributes in readings]
