"""accounts: the worklist's per-customer facts summary (issue 13): customer_facts (open, held,
collectible, oldest collectible due date, promised, broken promises, open disputes, last contact,
call-back, latest phone task) and customer_facts_ahead (per day: collectible falling due, open
promises promised), kept by every write from now on; backfilled here for every customer. Without
a clock, the backfill keeps the dated rows of every day, which is right on any day; the first
recomputation of a customer keeps only those from its day on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import common.db.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The same figures as services/accounts/data/customer_facts.py computes (frozen here: a migration
# does not follow later changes of the code).
COUNTED = (
    "i.open_minor > 0 AND i.currency = coalesce(nullif(c.currency_code, ''), i.currency)"
)
BACKFILL_FACTS = f"""
INSERT INTO customer_facts (customer_id, currency, open_minor, held_minor, collectible_minor,
  oldest_due, promised_minor, broken_promises, open_disputes, last_contact_at, call_back_at,
  phone_task_at)
SELECT c.id, coalesce(inv.currency, ''), coalesce(inv.open_minor, 0),
  coalesce(inv.held_minor, 0), coalesce(inv.collectible_minor, 0), inv.oldest_due,
  coalesce(prom.promised_minor, 0), coalesce(prom.broken, 0), coalesce(disp.open_disputes, 0),
  (SELECT max(x.occurred_at) FROM interactions x WHERE x.customer_id = c.id),
  (SELECT x.call_back_at FROM interactions x WHERE x.customer_id = c.id
   ORDER BY x.occurred_at DESC, x.created_at DESC LIMIT 1),
  (SELECT max(n.created_at) FROM dunning_notices n
   WHERE n.customer_id = c.id AND n.channel = 'PHONE_TASK')
FROM customers c
LEFT JOIN (
  SELECT i.customer_id, max(i.currency) AS currency, sum(i.open_minor) AS open_minor,
    sum(i.held_minor) AS held_minor,
    sum(CASE WHEN i.open_minor > i.held_minor THEN i.open_minor - i.held_minor ELSE 0 END)
      AS collectible_minor,
    min(CASE WHEN i.open_minor > i.held_minor THEN i.due_date END) AS oldest_due
  FROM invoices i JOIN customers c ON c.id = i.customer_id
  WHERE {COUNTED}
  GROUP BY i.customer_id) inv ON inv.customer_id = c.id
LEFT JOIN (
  SELECT customer_id,
    sum(CASE WHEN state = 'OPEN' THEN amount_minor ELSE 0 END) AS promised_minor,
    sum(CASE WHEN state = 'BROKEN' THEN 1 ELSE 0 END) AS broken
  FROM promises GROUP BY customer_id) prom ON prom.customer_id = c.id
LEFT JOIN (
  SELECT i.customer_id, count(DISTINCT h.dispute) AS open_disputes
  FROM holds h JOIN invoices i ON i.id = h.invoice_id
  WHERE h.amount_minor > 0 GROUP BY i.customer_id) disp ON disp.customer_id = c.id
"""
BACKFILL_AHEAD = f"""
INSERT INTO customer_facts_ahead (customer_id, day, due_minor, open_promises)
SELECT customer_id, day, sum(due_minor), sum(open_promises) FROM (
  SELECT i.customer_id AS customer_id, i.due_date AS day,
    i.open_minor - i.held_minor AS due_minor, 0 AS open_promises
  FROM invoices i JOIN customers c ON c.id = i.customer_id
  WHERE {COUNTED} AND i.open_minor > i.held_minor
  UNION ALL
  SELECT customer_id, promised_date, 0, 1 FROM promises WHERE state = 'OPEN'
) dated
GROUP BY customer_id, day
"""


def upgrade() -> None:
    op.create_table(
        'customer_facts',
        sa.Column('customer_id', sa.String(length=32), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('open_minor', sa.BigInteger(), nullable=False),
        sa.Column('held_minor', sa.BigInteger(), nullable=False),
        sa.Column('collectible_minor', sa.BigInteger(), nullable=False),
        sa.Column('oldest_due', sa.Date(), nullable=True),
        sa.Column('promised_minor', sa.BigInteger(), nullable=False),
        sa.Column('broken_promises', sa.Integer(), nullable=False),
        sa.Column('open_disputes', sa.Integer(), nullable=False),
        sa.Column('last_contact_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('call_back_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('phone_task_at', common.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
        sa.PrimaryKeyConstraint('customer_id'),
    )
    op.create_table(
        'customer_facts_ahead',
        sa.Column('customer_id', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('due_minor', sa.BigInteger(), nullable=False),
        sa.Column('open_promises', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
        sa.PrimaryKeyConstraint('customer_id', 'day'),
    )
    op.execute(BACKFILL_FACTS)
    op.execute(BACKFILL_AHEAD)


def downgrade() -> None:
    op.drop_table('customer_facts_ahead')
    op.drop_table('customer_facts')
