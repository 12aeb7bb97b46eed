"""deploy/compose.yaml: PostgreSQL, the collector, Jaeger, a migration step per service, the three
services and the gateway, wired with the addresses, ports and database URLs the code expects."""

from __future__ import annotations

import re

import pytest

from common.settings import Settings
from tests.deploy.manifests import (
    DEPLOY,
    METRICS_PORT,
    PROCESSES,
    SERVICES,
    collector_config,
    compose,
    grpc_port,
    module_of,
)


def env_of(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][name]["environment"].items()}


def test_the_stack_has_every_part():
    services = set(compose()["services"])
    expected = {"postgres", "otel-collector", "jaeger", *PROCESSES}
    assert expected | {f"migrate-{s}" for s in SERVICES} <= services
    assert "16686:16686" in compose()["services"]["jaeger"]["ports"]


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_runs_as_in_production_with_its_configuration(process):
    spec = compose()["services"][process]
    assert spec["command"] == ["python", "-m", module_of(process)]
    env = env_of(process)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    settings = Settings.from_env(process, tuple(s for s in SERVICES if s != process), env)
    assert settings.listen_addr == f"0.0.0.0:{grpc_port(process)}"
    assert settings.metrics_port == METRICS_PORT
    assert settings.downstream == {s: f"{s}:{grpc_port(s)}" for s in SERVICES if s != process}
    health = spec["healthcheck"]["test"]
    assert health[-1] == f"127.0.0.1:{grpc_port(process)}" and "HealthStub" in health[-2]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_migrates_its_own_postgres_database_first(service):
    migrate = compose()["services"][f"migrate-{service}"]
    assert migrate["command"] == ["python", "-m", f"services.{service}", "migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = env_of(f"migrate-{service}")[f"{service.upper()}_DATABASE_URL"]
    assert re.fullmatch(rf"postgresql\+asyncpg://\w+:\w+@postgres:5432/{service}", url)
    assert env_of(service)[f"{service.upper()}_DATABASE_URL"] == url
    created = (DEPLOY / "postgres" / "init.sql").read_text()
    assert f"CREATE DATABASE {service};" in created
    depends = compose()["services"][service]["depends_on"]
    assert depends[f"migrate-{service}"]["condition"] == "service_completed_successfully"


def test_the_collector_scrapes_every_process_where_it_serves_metrics():
    (job,) = collector_config("compose")["receivers"]["prometheus"]["config"]["scrape_configs"]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{p}:{METRICS_PORT}" for p in PROCESSES}
    for process in PROCESSES:
        assert env_of(process)["METRICS_BIND_ALL"]  # reachable from the collector's container


def test_the_collector_sends_traces_to_jaeger_and_mounts_its_config():
    exporters = collector_config("compose")["exporters"]
    assert exporters["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    collector = compose()["services"]["otel-collector"]
    assert "./otel-collector.yaml:/etc/otelcol/config.yaml:ro" in collector["volumes"]
    assert "--config=/etc/otelcol/config.yaml" in collector["command"]
