"""accounts: date indexes on the ledger (aging as of a date adds back what came after it)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:25:15.916421
"""

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index('ix_allocations_applied_date', ['applied_date'], unique=False)

    with op.batch_alter_table('hold_movements', schema=None) as batch_op:
        batch_op.create_index('ix_hold_movements_occurred_on', ['occurred_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hold_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_hold_movements_occurred_on')

    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_allocations_applied_date')
