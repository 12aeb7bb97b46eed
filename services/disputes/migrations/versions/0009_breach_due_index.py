"""disputes: a partial index on the due, unfired breaches (ix_clock_milestones_breach_due), so the
sweeper claims breaches ahead of a backlog of due warnings without walking it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clock_milestones', schema=None) as batch_op:
        batch_op.create_index(
            'ix_clock_milestones_breach_due',
            ['due_at'],
            unique=False,
            postgresql_where=sa.text("fired_at IS NULL AND name = 'BREACH'"),
            sqlite_where=sa.text("fired_at IS NULL AND name = 'BREACH'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('clock_milestones', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_clock_milestones_breach_due',
            postgresql_where=sa.text("fired_at IS NULL AND name = 'BREACH'"),
            sqlite_where=sa.text("fired_at IS NULL AND name = 'BREACH'"),
        )
