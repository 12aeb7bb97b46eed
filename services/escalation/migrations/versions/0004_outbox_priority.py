"""escalation: outbox priority (urgent events, such as SLA breaches, are leased first)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PENDING = sa.text('delivered_at IS NULL AND dead_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('priority', sa.SmallInteger(), server_default='1', nullable=False)
        )
        batch_op.drop_index('ix_outbox_pending', postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index(
            'ix_outbox_pending',
            ['priority', 'available_at'],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending', postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index(
            'ix_outbox_pending',
            ['available_at'],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.drop_column('priority')
