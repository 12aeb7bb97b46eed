"""The real migrations build the schema from nothing on both databases, agree with the models,
and can be rolled back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from common.db.database import create_engine
from common.db.migrate import downgrade, upgrade
from services.accounts.data import collections_models, dunning_models, report_models  # noqa: F401
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


async def test_upgrade_keeps_the_rows_of_a_database_in_use(backend, database_factory):
    """`make run` migrates the development database it left behind: tables that SQLite alters by
    copying (customers in 0006) are referenced by rows that must survive the copy."""
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "accounts", "0005")
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO customers (id, display_name, country_code, time_zone, currency_code,"
                " risk_class, bankruptcy, in_litigation, credit_hold, version, created_at,"
                " updated_at) VALUES ('c1', 'Acme', 'DE', 'Europe/Berlin', 'EUR', 'LOW', false,"
                " false, false, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO invoices (id, customer_id, external_number, invoice_date, due_date,"
                " currency, amount_minor, open_minor, held_minor, created_at) VALUES ('i1', 'c1',"
                " 'INV-1', '2026-01-05', '2026-02-04', 'EUR', 120000, 120000, 0,"
                " '2026-01-05 00:00:00')"
            )
        await upgrade(engine, "accounts")
        async with engine.connect() as conn:
            rows = (
                await conn.exec_driver_sql(
                    "SELECT c.id, c.dunning_block, i.id FROM customers c"
                    " JOIN invoices i ON i.customer_id = c.id"
                )
            ).all()
        assert [(r[0], bool(r[1]), r[2]) for r in rows] == [("c1", False, "i1")]
    finally:
        await engine.dispose()


async def test_0008_backfills_the_worklist_facts_of_a_database_in_use(backend, database_factory):
    """Every customer gets its summary; with no clock the dated rows of every day are kept (an
    invoice's collectible amount on its due date), so the figures are right whatever the day."""
    engine = create_engine(database_factory.empty_url(backend))
    try:
        await upgrade(engine, "accounts", "0007")
        async with engine.begin() as conn:
            for customer in ("c1", "c2"):
                await conn.exec_driver_sql(
                    "INSERT INTO customers (id, display_name, country_code, time_zone,"
                    " currency_code, risk_class, bankruptcy, in_litigation, credit_hold, version,"
                    f" created_at, updated_at, dunning_block) VALUES ('{customer}', 'Acme', 'DE',"
                    " 'Europe/Berlin', 'EUR', 'LOW', false, false, false, 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00', false)"
                )
            for number, due, open_, held in (("i1", "2026-02-04", 120000, 20000),
                                             ("i2", "2026-04-01", 5000, 0),
                                             ("i3", "2026-01-10", 7000, 7000)):  # fmt: skip
                await conn.exec_driver_sql(
                    "INSERT INTO invoices (id, customer_id, external_number, invoice_date,"
                    " due_date, currency, amount_minor, open_minor, held_minor, created_at)"
                    f" VALUES ('{number}', 'c1', '{number}', '2026-01-05', '{due}', 'EUR',"
                    f" {open_}, {open_}, {held}, '2026-01-05 00:00:00')"
                )
        await upgrade(engine, "accounts")
        async with engine.connect() as conn:
            facts = (
                await conn.exec_driver_sql(
                    "SELECT customer_id, open_minor, held_minor, collectible_minor, oldest_due,"
                    " promised_minor FROM customer_facts ORDER BY customer_id"
                )
            ).all()
            ahead = (
                await conn.exec_driver_sql(
                    "SELECT customer_id, day, due_minor FROM customer_facts_ahead ORDER BY day"
                )
            ).all()
        assert [(r[0], r[1], r[2], r[3], str(r[4]), r[5]) for r in facts] == [
            ("c1", 132000, 27000, 105000, "2026-02-04", 0),
            ("c2", 0, 0, 0, "None", 0),
        ]
        assert [(r[0], str(r[1]), r[2]) for r in ahead] == [
            ("c1", "2026-02-04", 100000),
            ("c1", "2026-04-01", 5000),
        ]
    finally:
        await engine.dispose()
