"""Alembic, run from code: `python -m services.<name> migrate`, tests, and the deploy job.

Every service keeps its migrations in `services/<name>/migrations` and its own version table
(`alembic_version_<name>`), so services can share a database server, or even a database, without
their histories touching.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from common.settings import PROJECT_ROOT


def alembic_config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "services" / service / "migrations"))
    cfg.set_main_option("version_table", f"alembic_version_{service}")
    return cfg


def _run(sync_conn, cfg: Config, action: str, target: str) -> None:
    cfg.attributes["connection"] = sync_conn
    getattr(command, action)(cfg, target)


def _foreign_keys(sync_conn, state: str) -> None:
    # On the driver's connection: through SQLAlchemy the pragma would run after the BEGIN
    # IMMEDIATE of common.db.database, inside a transaction, where SQLite ignores it.
    cursor = sync_conn.connection.dbapi_connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={state}")
    cursor.close()


async def _migrate(engine: AsyncEngine, service: str, action: str, target: str) -> None:
    """On SQLite an ALTER copies the table, drops the original and renames the copy; with foreign
    keys enforced the drop of a referenced table (customers, invoices) fails once it has rows. So
    enforcement is off while migrating (the pragma only takes effect outside a transaction),
    every reference is checked before it is turned back on, and a broken one fails the run."""
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await conn.run_sync(_foreign_keys, "OFF")
        try:
            async with conn.begin():
                await conn.run_sync(_run, alembic_config(service), action, target)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if sqlite:
                await conn.run_sync(_foreign_keys, "ON")


async def upgrade(engine: AsyncEngine, service: str, target: str = "head") -> None:
    await _migrate(engine, service, "upgrade", target)


async def downgrade(engine: AsyncEngine, service: str, target: str = "base") -> None:
    await _migrate(engine, service, "downgrade", target)


def _autogenerate(sync_conn, cfg: Config, message: str) -> None:
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")  # compare against the current head, not an empty database
    command.revision(cfg, message=message, autogenerate=True)


async def autogenerate(engine: AsyncEngine, service: str, message: str) -> None:
    """Writes a new revision from the difference between the models and the migrated schema."""
    async with engine.begin() as conn:
        await conn.run_sync(_autogenerate, alembic_config(service), message)
