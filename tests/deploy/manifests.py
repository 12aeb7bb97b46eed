"""Loading deploy/ for the tests: the compose file, the Kubernetes documents, and the environment
each Settle container really gets (ConfigMap + its own env, secrets as placeholders)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from common.settings import DEFAULT_PORTS, PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
SERVICES = ("accounts", "disputes", "escalation")
PROCESSES = (*SERVICES, "gateway")
METRICS_PORT = 9464
SECRET_PLACEHOLDER = "secret-from-settle-secrets-0123456789abcdef"  # long enough for any check


def module_of(process: str) -> str:
    return "gateway" if process == "gateway" else f"services.{process}"


def grpc_port(process: str) -> int:
    return DEFAULT_PORTS[process]


@cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def collector_config(which: str) -> dict:
    if which == "compose":
        return yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    (config_map,) = [d for d in k8s_docs() if d["kind"] == "ConfigMap"
                     and d["metadata"]["name"] == "otel-collector-config"]  # fmt: skip
    return yaml.safe_load(config_map["data"]["config.yaml"])


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@cache
def k8s_docs() -> tuple[dict, ...]:
    """Every document kustomize would apply (both kustomizations), plus the Secret's shape."""
    docs = []
    for root in (DEPLOY / "k8s", DEPLOY / "k8s" / "migrations"):
        kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
        for resource in kustomization["resources"]:
            docs += _docs(root / resource)
    return tuple(docs)


def k8s(kind: str, name: str | None = None) -> list[dict]:
    return [d for d in k8s_docs() if d["kind"] == kind
            and (name is None or d["metadata"]["name"] == name)]  # fmt: skip


def secret_keys() -> set[str]:
    (secret,) = _docs(DEPLOY / "k8s" / "secret.example.yaml")
    return set(secret["stringData"])


def config_map_data() -> dict[str, str]:
    (config,) = k8s("ConfigMap", "settle-config")
    return config["data"]


def container_env(container: dict) -> dict[str, str]:
    """The environment a container starts with: envFrom ConfigMaps, then env (which wins);
    values from the Secret become placeholders, after checking the Secret has the key."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", ()):
        (config,) = k8s("ConfigMap", source["configMapRef"]["name"])
        env.update(config["data"])
    keys = secret_keys()
    for var in container.get("env", ()):
        if "value" in var:
            env[var["name"]] = str(var["value"])
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "settle-secrets" and ref["key"] in keys, var
            env[var["name"]] = SECRET_PLACEHOLDER
        else:
            env[var["name"]] = "from-the-downward-api"
    return env


def only_container(workload: dict) -> dict:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container
