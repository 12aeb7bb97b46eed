"""Every variable deploy/ sets is one the code reads (a typo would silently fall back to a
default), and compose and Kubernetes agree on the values that are not secrets or listen
addresses."""

from __future__ import annotations

import re

import pytest
from opentelemetry import environment_variables as api_variables
from opentelemetry.sdk import environment_variables as sdk_variables

from common.settings import DEFAULT_PORTS, PROJECT_ROOT
from tests.deploy.manifests import (
    PROCESSES,
    SERVICES,
    compose,
    config_map_data,
    container_env,
    k8s,
    only_container,
    secret_keys,
)

NAME = re.compile(r"[\"']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"']")
DEPLOY_ONLY = {"POD_NAME"}  # the downward API value OTEL_RESOURCE_ATTRIBUTES interpolates


def variables_the_code_reads() -> set[str]:
    names = {
        value
        for module in (api_variables, sdk_variables)
        for key, value in vars(module).items()
        if key.startswith("OTEL_")
    }
    for package in ("common", "services", "gateway"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            names |= set(NAME.findall(path.read_text()))
    for process in DEFAULT_PORTS:  # built with f"{service.upper()}_..." in common/settings.py
        names |= {f"{process.upper()}_{s}" for s in ("ADDR", "DATABASE_URL", "METRICS_PORT")}
    return names


def deployed_variables() -> dict[str, set[str]]:
    found = {"k8s ConfigMap": set(config_map_data()), "k8s Secret": secret_keys()}
    for workload in (*k8s("Deployment"), *k8s("Job")):
        if workload["metadata"]["name"] == "otel-collector":
            continue
        found[workload["metadata"]["name"]] = {e["name"] for e in only_container(workload)["env"]}
    for name, spec in compose()["services"].items():
        if name in PROCESSES or name.startswith("migrate-"):
            found[f"compose {name}"] = set(spec["environment"])
    return found


def test_every_deployed_variable_is_read_by_the_code():
    known = variables_the_code_reads() | DEPLOY_ONLY
    assert {"SETTLE_INTERNAL_SECRET", "ACCOUNTS_DATABASE_URL", "OTEL_TRACES_SAMPLER"} <= known
    unknown = {where: names - known for where, names in deployed_variables().items()}
    assert {w: n for w, n in unknown.items() if n} == {}


@pytest.mark.parametrize("process", PROCESSES)
def test_compose_and_kubernetes_agree(process):
    in_k8s = container_env(only_container(k8s("Deployment", process)[0]))
    in_compose = {k: str(v) for k, v in compose()["services"][process]["environment"].items()}
    shared = [f"{s.upper()}_ADDR" for s in SERVICES] + [f"{process.upper()}_METRICS_PORT",
              "OTEL_EXPORTER_OTLP_ENDPOINT", "METRICS_BIND_ALL", "LOG_FORMAT",
              "OTEL_METRICS_EXPORTER"]  # fmt: skip
    for key in shared:
        assert in_compose[key] == in_k8s[key], key
