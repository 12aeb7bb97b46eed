"""disputes: autovacuum by a fixed 10,000 dead rows on the tables an SLA burst churns
(clock_milestones: the sweeper's claim index; outbox_events: the relay's pending index);
PostgreSQL only (common/db/autovacuum.py, docs/scaling.md)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:10:00.000000
"""

from common.db.autovacuum import reset_to_defaults, tune_for_bursts

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ("clock_milestones", "outbox_events")


def upgrade() -> None:
    tune_for_bursts(*TABLES)


def downgrade() -> None:
    reset_to_defaults(*TABLES)
