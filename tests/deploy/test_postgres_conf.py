"""deploy/postgres/postgresql.conf: a real PostgreSQL starts with it, and its connection budget
covers the most pods deploy/k8s can run at once (an HPA's maximum, else the replicas), each with
the pool every Settle process keeps, plus a migration job per service."""

from __future__ import annotations

import asyncpg
import pytest

from common.db.database import MAX_OVERFLOW, POOL_SIZE
from tests.deploy.manifests import DEPLOY, SERVICES, k8s
from tools.chaos.pgcluster import PgCluster

CONF = DEPLOY / "postgres" / "postgresql.conf"
ADMINISTRATION = 10  # psql sessions, monitoring, a backup


def _settings() -> dict[str, str]:
    settings = {}
    for line in CONF.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (part.strip() for part in line.split("=", 1))
            settings[name] = value.strip("'")
    return settings


def _most_pods(service: str) -> int:
    scalers = k8s("HorizontalPodAutoscaler", service)
    if scalers:
        return scalers[0]["spec"]["maxReplicas"]
    (deployment,) = k8s("Deployment", service)
    return deployment["spec"]["replicas"]


def test_the_connection_budget_covers_every_pod_the_manifests_can_run():
    settings = _settings()
    pods = sum(_most_pods(service) for service in SERVICES)
    needed = pods * (POOL_SIZE + MAX_OVERFLOW) + len(SERVICES) + ADMINISTRATION
    available = int(settings["max_connections"]) - int(settings["superuser_reserved_connections"])
    assert available >= needed, (available, needed)


def test_the_disputes_autoscaler_targets_its_deployment_within_the_budget():
    (scaler,) = k8s("HorizontalPodAutoscaler", "disputes")
    assert scaler["spec"]["scaleTargetRef"]["name"] == "disputes"
    (deployment,) = k8s("Deployment", "disputes")
    assert scaler["spec"]["minReplicas"] <= deployment["spec"]["replicas"]
    assert deployment["spec"]["replicas"] <= scaler["spec"]["maxReplicas"]


@pytest.mark.postgres
async def test_postgresql_starts_with_the_file_and_takes_its_settings():
    cluster = PgCluster.create()
    try:
        cluster.start(config_file=CONF)
        conn = await asyncpg.connect(cluster.admin_dsn)
        try:
            shown = {
                name: await conn.fetchval(f"SHOW {name}")
                for name in ("max_connections", "checkpoint_timeout", "max_wal_size")
            }
        finally:
            await conn.close()
    finally:
        cluster.destroy()
    assert shown == {"max_connections": "320", "checkpoint_timeout": "15min", "max_wal_size": "4GB"}
