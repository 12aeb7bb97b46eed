"""accounts: promises indexed by plan and instalment. Judging a batch of promises reads what the
earlier instalments of each one's plan promised (data/promise_batch.py); without the index that
join scanned every promise once per batch: 100,000 promises due at once were judged at ~20/s.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 03:35:00.000000
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_promises_plan", "promises", ["plan_id", "instalment"])


def downgrade() -> None:
    op.drop_index("ix_promises_plan", table_name="promises")
