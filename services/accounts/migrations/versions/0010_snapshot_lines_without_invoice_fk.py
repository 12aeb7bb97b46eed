"""accounts: notice lines and Legal snapshot lines keep the invoice's id without a foreign key to
invoices (issue 14, the dunning run's speed). Both are documents: each line copies the invoice's
number, due date and amounts as they stood, and invoices are never deleted. The key's check cost
a run an index probe and a FOR KEY SHARE lock (a WAL record) on the invoice per line written:
on PostgreSQL 60 % of inserting a notice's lines.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 02:10:00.000000
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ("dunning_notice_lines", "legal_snapshot_lines")
# SQLite: 0006 left the keys unnamed; the batch copy names them by this convention to drop them.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"{table}_invoice_id_fkey", table, type_="foreignkey")
            continue
        with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_invoice_id_invoices", type_="foreignkey")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f"{table}_invoice_id_fkey", "invoices", ["invoice_id"], ["id"]
            )
