"""A private PostgreSQL cluster (initdb/pg_ctl in a temporary directory) that a test may restart
or stop without touching the shared server. Missing binaries fail under CI=true, skip elsewhere."""

from __future__ import annotations

import pytest

from tests.support.databases import IN_CI
from tools.chaos.pgcluster import PgCluster, PostgresMissing


@pytest.fixture
def private_cluster():
    try:
        cluster = PgCluster.create()
    except PostgresMissing as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI=true requires it", pytrace=False)
        pytest.skip(str(exc))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
