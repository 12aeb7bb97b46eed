"""The real migrations build the schema from nothing on both databases, agree with the models,
and can be rolled back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from common.db.database import create_engine
from common.db.migrate import downgrade, upgrade
from services.accounts.data.models import Base


def _diff(sync_conn):
    context = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "version_table": "alembic_version_accounts"}
    )
    return compare_metadata(context, Base.metadata)


async def test_upgrade_from_empty_matches_the_models_and_downgrades(backend, database_factory):
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "accounts")
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert {
            "customers",
            "invoices",
            "allocations",
            "holds",
            "outbox_events",
            "idempotency_keys",
            "alembic_version_accounts",
        } <= tables
        await downgrade(engine, "accounts")
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert left == {"alembic_version_accounts"}
    finally:
        await engine.dispose()
