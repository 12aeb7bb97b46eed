"""accounts: parked outbox events can be discarded (outbox_events.discarded_at), and every SRE action
on one (retry, discard) is recorded in outbox_actions (common/outbox_admin.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 20:15:00.000000
"""

from alembic import op
import sqlalchemy as sa
import common.db.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('discarded_at', common.db.types.UtcDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        'outbox_actions',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('request_id', sa.String(length=200), nullable=True),
        sa.Column('created_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id'),
    )
    with op.batch_alter_table('outbox_actions', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_actions_event_id', ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_actions_event_id')
    op.drop_table('outbox_actions')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('discarded_at')
