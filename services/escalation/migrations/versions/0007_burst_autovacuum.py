"""escalation: autovacuum by a fixed 10,000 dead rows on the tables an SLA burst churns
(outbox_events: the relay's pending index, one event per raised escalation);
PostgreSQL only (common/db/autovacuum.py, docs/scaling.md)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:10:00.000000
"""

from common.db.autovacuum import reset_to_defaults, tune_for_bursts

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ("outbox_events",)


def upgrade() -> None:
    tune_for_bursts(*TABLES)


def downgrade() -> None:
    reset_to_defaults(*TABLES)
