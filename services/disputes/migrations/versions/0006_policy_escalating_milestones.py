"""disputes: which milestones of an SLA policy raise an escalation (sla_policies.escalating_milestones);
existing policies get the default, the breach only (warnings become events, not escalations)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 21:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'escalating_milestones',
                sa.String(length=200),
                nullable=False,
                server_default='BREACH',
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_column('escalating_milestones')
