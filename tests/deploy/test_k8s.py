"""deploy/k8s: a Deployment (2 replicas; disputes 3, for SLA bursts), Services and a migration
Job per service; the gateway; probes on the standard gRPC health service at the port the process
really listens on; the configuration each container gets is accepted by the code that reads it."""

from __future__ import annotations

import pytest

from common.settings import Settings
from tests.deploy.manifests import (
    METRICS_PORT,
    PROCESSES,
    SERVICES,
    config_map_data,
    container_env,
    grpc_port,
    k8s,
    module_of,
    only_container,
)


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_is_a_replicated_deployment_with_grpc_health_probes(process):
    (deployment,) = k8s("Deployment", process)
    assert deployment["spec"]["replicas"] == (3 if process == "disputes" else 2)
    container = only_container(deployment)
    assert container["command"] == ["python", "-m", module_of(process)]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == grpc_port(process) and ports["metrics"] == METRICS_PORT
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": grpc_port(process)}, probe
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
        resources["limits"]
    )
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("process", PROCESSES)
def test_the_code_accepts_each_containers_configuration_in_production(process):
    env = container_env(only_container(k8s("Deployment", process)[0]))
    assert env["SETTLE_ENV"] == "production"
    settings = Settings.from_env(process, tuple(s for s in SERVICES if s != process), env)
    assert settings.listen_addr == f"0.0.0.0:{grpc_port(process)}"
    assert settings.metrics_port == METRICS_PORT
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    for other, address in settings.downstream.items():
        (service,) = k8s("Service", other)  # others are reached through their Service
        assert address == f"{other}:{grpc_port(other)}"
        assert {p["port"] for p in service["spec"]["ports"]} >= {grpc_port(other)}
    if process == "gateway":
        from gateway.settings import GatewaySettings  # the gateway's own reader, strict outside dev

        gateway = GatewaySettings.from_env(env)
        assert gateway.http_addr == "0.0.0.0:8080" and gateway.jwt is not None
    else:
        assert settings.database_url != Settings.from_env(process, environ={}).database_url


@pytest.mark.parametrize("process", PROCESSES)
def test_services_route_to_the_pods_and_expose_each_replicas_metrics(process):
    (service,) = k8s("Service", process)
    (deployment,) = k8s("Deployment", process)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    named = {p["name"]: p for p in only_container(deployment)["ports"]}
    for port in service["spec"]["ports"]:
        assert named[port["targetPort"]]["containerPort"] == port["port"]
    (metrics,) = k8s("Service", f"{process}-metrics")
    assert metrics["spec"]["clusterIP"] == "None"  # one DNS record per pod
    assert [p["port"] for p in metrics["spec"]["ports"]] == [METRICS_PORT]
    (budget,) = k8s("PodDisruptionBudget", process)
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_migration_job_with_what_migrate_needs(service):
    (job,) = k8s("Job", f"{service}-migrate")
    container = only_container(job)
    assert container["command"] == ["python", "-m", f"services.{service}", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    env = container_env(container)
    settings = Settings.from_env(service, environ=env)  # production: refuses without a secret
    assert settings.database_url == env[f"{service.upper()}_DATABASE_URL"]


def test_the_config_map_names_every_service_and_no_secret():
    data = config_map_data()
    for service in SERVICES:
        assert data[f"{service.upper()}_ADDR"] == f"{service}:{grpc_port(service)}"
    leaked = [k for k in data if any(w in k for w in ("SECRET", "PASSWORD", "DATABASE_URL"))]
    assert leaked == []
