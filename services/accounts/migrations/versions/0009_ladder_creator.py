"""accounts: a dunning ladder version records who created it (issue 14): dunning_ladders.created_by,
the creator's actor id ("user:alice"); the versions stored before it (the seed) were made by the
migrations, "system"

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 02:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dunning_ladders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=200), nullable=False,
                                      server_default='system'))


def downgrade() -> None:
    with op.batch_alter_table('dunning_ladders', schema=None) as batch_op:
        batch_op.drop_column('created_by')
