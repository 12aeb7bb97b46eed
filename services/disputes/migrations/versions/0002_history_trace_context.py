"""disputes: history rows record the trace of the action that wrote them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:10:30.728047
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = ("UPDATE", "DELETE")


def upgrade() -> None:
    # A nullable column: SQLite adds it in place (no table copy), so the append-only triggers stay.
    with op.batch_alter_table('dispute_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dispute_history', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
    # SQLite drops a column by copying the table, which loses its triggers: put them back.
    if op.get_bind().dialect.name == "sqlite":
        for event in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS dispute_history_no_{event.lower()}")
            op.execute(
                f"CREATE TRIGGER dispute_history_no_{event.lower()} BEFORE {event} ON dispute_history "
                "BEGIN SELECT RAISE(ABORT, 'dispute_history is append-only'); END"
            )
