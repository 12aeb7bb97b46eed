"""disputes: dispute_teams, the teams a case was escalated to (team isolation)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:35:33.354928
"""

import json

from alembic import op
import sqlalchemy as sa
import common.db.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TEAMS = ("SALES", "GBS", "LEGAL", "TEAM_LEAD")


def upgrade() -> None:
    teams = op.create_table('dispute_teams',
    sa.Column('dispute_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=32), nullable=False),
    sa.Column('escalation', sa.String(length=64), nullable=False),
    sa.Column('created_at', common.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], ),
    sa.PrimaryKeyConstraint('dispute_id', 'team')
    )
    with op.batch_alter_table('dispute_teams', schema=None) as batch_op:
        batch_op.create_index('ix_dispute_teams_team', ['team', 'dispute_id'], unique=False)
    _backfill(teams)


def _backfill(teams) -> None:
    """The teams this service already knows of from the history: `:escalate` to a named team, and
    every escalation answer (its team had the case). Escalations still open whose team the
    routing rules chose are known only to the escalation service (docs/disputes.md)."""
    history = sa.table(
        'dispute_history',
        sa.column('id', sa.BigInteger),
        sa.column('dispute_id', sa.String),
        sa.column('kind', sa.String),
        sa.column('details', sa.Text),
        sa.column('occurred_at', common.db.types.UtcDateTime()),
    )
    rows = op.get_bind().execute(
        sa.select(history.c.dispute_id, history.c.kind, history.c.details, history.c.occurred_at)
        .where(
            (history.c.kind == 'ESCALATION_ANSWERED')
            | ((history.c.kind == 'STATUS_CHANGED') & history.c.details.like('%"ESCALATE"%'))
        )
        .order_by(history.c.id)
    )
    found: dict[tuple[str, str], dict] = {}
    for dispute_id, kind, details, occurred_at in rows:
        data = json.loads(details or '{}')
        if kind == 'STATUS_CHANGED' and data.get('action') != 'ESCALATE':
            continue
        team = data.get('team', '').strip().upper()
        if team not in TEAMS:
            continue
        row = found.setdefault(
            (dispute_id, team),
            {'dispute_id': dispute_id, 'team': team, 'escalation': '', 'created_at': occurred_at},
        )
        if not row['escalation'] and data.get('escalation', '').startswith('escalations/'):
            row['escalation'] = data['escalation']
    if found:
        op.bulk_insert(teams, list(found.values()))


def downgrade() -> None:
    with op.batch_alter_table('dispute_teams', schema=None) as batch_op:
        batch_op.drop_index('ix_dispute_teams_team')

    op.drop_table('dispute_teams')
