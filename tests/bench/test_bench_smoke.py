"""`python -m bench` end to end at a tiny size (`--scale`): the cheapest scenario runs against real
processes and PostgreSQL, and the JSON it writes holds every figure the table shows."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import asyncpg
import pytest

from common.settings import PROJECT_ROOT
from tests.support.databases import PG_ADMIN_DSN, require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def _bench_databases() -> set[str]:
    """The bench databases nobody is connected to: another bench running on the same server
    (a developer's, beside this test) holds connections to its own."""

    async def names():
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            rows = await conn.fetch(
                "SELECT datname FROM pg_database d WHERE datname LIKE 'settle_bench_%'"
                " AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)"
            )
            return {r["datname"] for r in rows}
        finally:
            await conn.close()

    return asyncio.run(names())


def test_quick_bench_of_the_cheapest_scenario_writes_valid_json(tmp_path):
    require_postgres()
    before = _bench_databases()
    argv = ["--mode", "quick", "--scale", "0.02", "--only", "aging_report", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *argv],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=170,
        env={"SETTLE_BENCH_PG_DSN": PG_ADMIN_DSN, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "aging_report" in done.stdout and "memory" in done.stdout  # the printed table

    (path,) = tmp_path.glob("*-quickx0.02-*.json")
    document = json.loads(path.read_text())
    assert [s["name"] for s in document["scenarios"]] == ["aging_report", "memory"]
    assert document["commit"]["sha"] and document["machine"]["usable_cpus"] >= 1
    assert document["postgres"]["version"]
    aging = document["scenarios"][0]
    assert aging["status"] in ("ok", "target missed"), aging["verdict"]
    assert all(aging["checks"].values()), aging["checks"]
    assert aging["dataset"]["open_invoices"] == 1_000
    variants = {v["name"]: v for v in aging["variants"]}
    assert set(variants) == {"settle", "bare-grpc", "asyncpg"}
    for v in variants.values():
        assert v["errors"] == 0 and v["rate"] > 0 and 0 < v["p50_ms"] <= v["p99_ms"]
        assert {"client", "postgres"} <= set(v["cpu_ms_per_unit"])
    assert variants["settle"]["peak_rss_mb"]["accounts"] > 10
    assert variants["bare-grpc"]["peak_rss_mb"]["bare"] > 10
    assert set(aging["ratios"]["settle"]) == {"bare-grpc", "asyncpg"}
    memory = document["scenarios"][1]
    assert (
        memory["status"] in ("ok", "target missed")
        and "accounts (aging_report)" in memory["dataset"]
    )
    # Nothing new left behind (a subset, not equality: another bench on the same server may drop
    # its own databases meanwhile, or be between creating one and connecting to it).
    assert _bench_databases() <= before, "the bench left databases behind"
