"""Autovacuum for the tables an SLA burst churns (docs/scaling.md, "Index growth").

PostgreSQL's default vacuums a table once 20 % of it is dead. On `clock_milestones` (millions of
rows) that is hundreds of thousands of fired milestones whose dead entries the sweeper's claim
index walks on every pass, and the outbox's pending index fills the same way. A fixed threshold
of 10,000 dead rows, whatever the table's size, keeps both flat. SQLite has no autovacuum: the
migrations calling this do nothing there.
"""

from __future__ import annotations

from alembic import op

BURST_SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "10000",
    "autovacuum_analyze_scale_factor": "0",
    "autovacuum_analyze_threshold": "10000",
}


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def tune_for_bursts(*tables: str) -> None:
    if not _on_postgresql():
        return
    settings = ", ".join(f"{name} = {value}" for name, value in BURST_SETTINGS.items())
    for table in tables:
        op.execute(f"ALTER TABLE {table} SET ({settings})")


def reset_to_defaults(*tables: str) -> None:
    if not _on_postgresql():
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(BURST_SETTINGS)})")
