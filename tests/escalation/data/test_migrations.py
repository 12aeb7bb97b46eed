"""The real migrations build the schema and the seeded data from nothing on both databases, agree
with the models, and roll back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from common.db.database import create_engine
from common.db.migrate import downgrade, upgrade
from services.escalation.data.models import (
    Base,
    OlaTargetRow,
    RoutingRuleRow,
    SequenceCounterRow,
    TeamCalendarRow,
)


def _diff(sync_conn):
    context = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "version_table": "alembic_version_escalation"}
    )
    return compare_metadata(context, Base.metadata)


async def test_upgrade_from_empty_seeds_the_defaults_and_downgrades(backend, database_factory):
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "escalation")
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            count = lambda model: conn.scalar(select(func.count()).select_from(model))  # noqa: E731
            assert await count(RoutingRuleRow) == 32
            assert await count(TeamCalendarRow) == 4
            assert await count(OlaTargetRow) == 8
            assert await conn.scalar(select(SequenceCounterRow.value)) == 0
            owners = dict(
                (
                    await conn.execute(
                        select(RoutingRuleRow.root_cause, RoutingRuleRow.team).where(
                            RoutingRuleRow.root_cause != ""
                        )
                    )
                ).all()
            )
        assert owners["TAX_SETUP"] == "GBS" and owners["PROMO_NOT_SET_UP"] == "SALES"
        assert owners["FRAUD_OR_LEGAL"] == "LEGAL"
        await downgrade(engine, "escalation")
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert left == {"alembic_version_escalation"}
    finally:
        await engine.dispose()
