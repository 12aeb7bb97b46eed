"""The tables an SLA burst churns are vacuumed after a fixed 10,000 dead rows on PostgreSQL
(common/db/autovacuum.py), set by the disputes and escalation migrations and reset by their
downgrades; on SQLite the same migrations do nothing and still run both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from common.db.autovacuum import BURST_SETTINGS
from common.db.database import create_engine
from common.db.migrate import downgrade, upgrade

# service -> (the revision that tunes, the one before it, the tables it tunes)
TUNED = {
    "disputes": ("0008", "0007", ("clock_milestones", "outbox_events")),
    "escalation": ("0007", "0006", ("outbox_events",)),
}
EXPECTED = sorted(f"{name}={value}" for name, value in BURST_SETTINGS.items())


async def _options(engine, table: str) -> list[str]:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = :t"), {"t": table}
        )
        return sorted(found.scalar_one() or [])


@pytest.mark.parametrize("service", sorted(TUNED))
async def test_burst_tables_are_vacuumed_by_a_fixed_threshold_and_reset_on_downgrade(
    backend, database_factory, service
):
    revision, previous, tables = TUNED[service]
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, service, revision)
        if backend == "postgres":
            for table in tables:
                assert await _options(engine, table) == EXPECTED, table
        await downgrade(engine, service, previous)
        if backend == "postgres":
            for table in tables:
                assert await _options(engine, table) == [], table
        await upgrade(engine, service)  # and forward again to head
    finally:
        await engine.dispose()
