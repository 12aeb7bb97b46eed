"""escalation: report schedules and their runs (issue 15; common/reports/schedule_model.py): a
schedule is data (report, parameters, dynamic period, recurrence in an IANA zone, format,
recipients, run-as identity, send-only-if-data); one run per schedule and period (unique), claimed
under a lease, its file kept until expires_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 20:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import common.db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_schedules',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('report', sa.String(length=64), nullable=False),
        sa.Column('parameters', sa.Text(), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('frequency', sa.String(length=16), nullable=False),
        sa.Column('at_minute', sa.Integer(), nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=True),
        sa.Column('month_day', sa.String(length=4), nullable=True),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('run_as_subject', sa.String(length=200), nullable=False),
        sa.Column('run_as_roles', sa.String(length=200), nullable=False),
        sa.Column('run_as_team', sa.String(length=64), nullable=False),
        sa.Column('send_only_if_data', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('next_due_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_due_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('last_period_first', sa.Date(), nullable=True),
        sa.Column('last_period_last', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('report_schedules', schema=None) as batch_op:
        batch_op.create_index('ix_report_schedules_next_due_at', ['next_due_at'], unique=False)
    op.create_table(
        'report_runs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('schedule_id', sa.String(length=32), nullable=False),
        sa.Column('period_first', sa.Date(), nullable=False),
        sa.Column('period_last', sa.Date(), nullable=False),
        sa.Column('due_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('available_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('lease_until', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=True),
        sa.Column('artefact', sa.String(length=200), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('finished_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('schedule_id', 'period_first', 'period_last', name='uq_report_runs_period'),
    )
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.create_index('ix_report_runs_state', ['state', 'available_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_report_runs_state')
    op.drop_table('report_runs')
    with op.batch_alter_table('report_schedules', schema=None) as batch_op:
        batch_op.drop_index('ix_report_schedules_next_due_at')
    op.drop_table('report_schedules')
