"""The disputes migrations build the schema and the seed data from nothing on both databases,
agree with the models, keep history append-only, and roll back."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from common.db.database import create_engine
from common.db.migrate import downgrade, upgrade
from services.disputes.data.models import Base

CASE = (
    "INSERT INTO disputes (id, customer_id, title, reason_code, priority, priority_rank, status, "
    "assignee, coordinator, external_ref, currency, customer_risk_class, customer_bankruptcy, "
    "customer_in_litigation, sla_state, version, created_at, updated_at) VALUES ('d1', 'c1', 't', "
    "'PRICING', 'LOW', 1, 'NEW', '', '', '', 'EUR', 'LOW', false, false, 'ON_TRACK', 1, "
    "'2026-01-01', '2026-01-01')"
)
HISTORY = (
    "INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version, comment, details) "
    "VALUES ('d1', 'CREATED', 'user:a', '2026-01-01', 1, '', '{}')"
)


def _diff(sync_conn):
    context = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "version_table": "alembic_version_disputes"}
    )
    return compare_metadata(context, Base.metadata)


async def test_upgrade_seeds_matches_the_models_and_downgrades(backend, database_factory):
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "disputes")
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            counts = {
                t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                for t in ("reason_codes", "root_causes", "sla_policies", "calendars")
            }
        assert counts == {"reason_codes": 17, "root_causes": 14, "sla_policies": 4, "calendars": 1}
        async with engine.begin() as conn:
            await conn.execute(text(CASE))
            await conn.execute(text(HISTORY))
        for statement in (
            "UPDATE dispute_history SET actor = 'user:b'",
            "DELETE FROM dispute_history",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
        await downgrade(engine, "disputes")
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert left == {"alembic_version_disputes"}
    finally:
        await engine.dispose()


async def test_0002_adds_the_trace_column_and_history_stays_append_only_both_ways(
    backend, database_factory
):
    """SQLite drops a column by copying the table, which would lose the history triggers."""
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "disputes", "0001")
        async with engine.begin() as conn:
            await conn.execute(text(CASE))
            await conn.execute(text(HISTORY))
        await upgrade(engine, "disputes", "0002")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT traceparent FROM dispute_history"))).all() == [
                (None,)
            ]
        for target in ("0002", "0001"):
            await downgrade(engine, "disputes", target)
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text("DELETE FROM dispute_history"))
    finally:
        await engine.dispose()


def _history(kind: str, details: dict) -> str:
    details = json.dumps(details, sort_keys=True)
    return (
        "INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version, comment, "
        f"details) VALUES ('d1', '{kind}', 'user:a', '2026-01-02', 2, '', '{details}')"
    )


async def test_0003_adds_dispute_teams_from_the_teams_the_history_already_names(
    backend, database_factory
):
    """Cases escalated before 0003 stay visible to the teams this service knows of: `:escalate` to
    a named team, and every team that answered an escalation of the case."""
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "disputes", "0002")
        async with engine.begin() as conn:
            await conn.execute(text(CASE))
            for kind, details in (
                ("STATUS_CHANGED", {"action": "ESCALATE", "escalation_reason": "X", "team": ""}),
                ("STATUS_CHANGED", {"action": "ESCALATE", "team": "SALES"}),
                ("STATUS_CHANGED", {"action": "START"}),
                ("ESCALATION_ANSWERED", {"escalation": "escalations/e1", "team": "SALES"}),
                ("ESCALATION_ANSWERED", {"escalation": "escalations/e2", "team": "GBS"}),
            ):
                await conn.execute(text(_history(kind, details)))
        await upgrade(engine, "disputes", "0003")
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT dispute_id, team, escalation FROM dispute_teams ORDER BY team")
            )
            assert rows.all() == [
                ("d1", "GBS", "escalations/e2"),
                ("d1", "SALES", "escalations/e1"),
            ]
        await downgrade(engine, "disputes", "0002")
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert "dispute_teams" not in tables and "dispute_history" in tables
    finally:
        await engine.dispose()


async def test_0006_gives_existing_policies_the_default_escalating_milestone(
    backend, database_factory
):
    """Policies made before 0006 escalate their breach only (warnings become events)."""
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "disputes", "0005")
        await upgrade(engine, "disputes", "0006")
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT DISTINCT escalating_milestones FROM sla_policies")
            )
            assert rows.scalars().all() == ["BREACH"]
        await downgrade(engine, "disputes", "0005")
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("sla_policies")}
            )
        assert "escalating_milestones" not in columns
    finally:
        await engine.dispose()
