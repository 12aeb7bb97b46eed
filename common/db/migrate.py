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


async def upgrade(engine: AsyncEngine, service: str, target: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_run, alembic_config(service), "upgrade", target)


async def downgrade(engine: AsyncEngine, service: str, target: str = "base") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_run, alembic_config(service), "downgrade", target)


def _autogenerate(sync_conn, cfg: Config, message: str) -> None:
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")  # compare against the current head, not an empty database
    command.revision(cfg, message=message, autogenerate=True)


async def autogenerate(engine: AsyncEngine, service: str, message: str) -> None:
    """Writes a new revision from the difference between the models and the migrated schema."""
    async with engine.begin() as conn:
        await conn.run_sync(_autogenerate, alembic_config(service), message)
