"""escalation: seed routing rules, team calendars and OLA targets (defaults from DOMAIN.md)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:40:00

Data, not code: change these rows (or add rules through the API); the service reads them at run
time. Rule ids are derived from what the rule matches, so they are the same in every database.
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import common.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

LOW, MEDIUM, HIGH, CRITICAL = 1, 2, 3, 4
SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)

# (priority, condition field, value, team, severity, description). Lowest priority first wins:
# legal flags, then what the raiser said the escalation is about, then the investigated root
# cause, then the customer's claimed reason, and last the SLA fallbacks.
RULES = [
    (10, "customer_flag", "bankruptcy", "LEGAL", HIGH, "Customer in bankruptcy goes to Legal"),
    (10, "customer_flag", "in_litigation", "LEGAL", HIGH, "Customer in litigation goes to Legal"),
    (20, "reason_code", "FRAUD", "LEGAL", CRITICAL, "Suspected fraud"),
    (20, "reason_code", "INSOLVENCY_NOTICE", "LEGAL", HIGH, "Insolvency notice received"),
    (20, "reason_code", "LITIGATION_THREAT", "LEGAL", HIGH, "Customer threatens litigation"),
    (20, "reason_code", "NO_REACTION_AFTER_FINAL_NOTICE", "LEGAL", MEDIUM,
     "Dunning +90: no reaction after the final notice"),
    (20, "reason_code", "PRICING_AUTHORITY", "SALES", MEDIUM, "Price needs Sales' authority"),
    (20, "reason_code", "CREDIT_MEMO_APPROVAL", "SALES", MEDIUM, "Credit memo needs approval"),
    (20, "reason_code", "BILLING_CORRECTION", "GBS", MEDIUM, "Billing must be corrected"),
    (20, "reason_code", "MASTER_DATA_FIX", "GBS", MEDIUM, "Master data must be fixed"),
    (20, "reason_code", "WRITE_OFF_AUTHORITY", "TEAM_LEAD", MEDIUM,
     "Amount above the collector's write-off authority"),
    (20, "reason_code", "BROKEN_PROMISE", "TEAM_LEAD", MEDIUM, "Promise to pay broken"),
    (20, "reason_code", "AGED_DEBT_OVER_90", "TEAM_LEAD", MEDIUM, "Debt over 90 days"),
    (30, "root_cause", "SALES_PRICING_ERROR", "SALES", MEDIUM, "Root cause owned by Sales"),
    (30, "root_cause", "CONTRACT_TERMS", "SALES", MEDIUM, "Root cause owned by Sales"),
    (30, "root_cause", "ORDER_ENTRY_ERROR", "SALES", MEDIUM, "Root cause owned by Sales"),
    (30, "root_cause", "PROMO_NOT_SET_UP", "SALES", MEDIUM, "Root cause owned by Sales"),
    (30, "root_cause", "BILLING_ERROR", "GBS", MEDIUM, "Root cause owned by GBS"),
    (30, "root_cause", "MASTER_DATA_ERROR", "GBS", MEDIUM, "Root cause owned by GBS"),
    (30, "root_cause", "CASH_APPLICATION_ERROR", "GBS", MEDIUM, "Root cause owned by GBS"),
    (30, "root_cause", "TAX_SETUP", "GBS", MEDIUM, "Root cause owned by GBS"),
    (30, "root_cause", "FRAUD_OR_LEGAL", "LEGAL", HIGH, "Root cause owned by Legal"),
    (40, "dispute_reason", "PRICING", "SALES", MEDIUM, "Pricing claims go to Sales"),
    (40, "dispute_reason", "CONTRACT_TERMS", "SALES", MEDIUM, "Contract claims go to Sales"),
    (40, "dispute_reason", "DISCOUNT_TERMS", "SALES", MEDIUM, "Discount claims go to Sales"),
    (40, "dispute_reason", "PROMO_TRADE", "SALES", MEDIUM, "Promotion claims go to Sales"),
    (40, "dispute_reason", "DUPLICATE_BILLING", "GBS", MEDIUM, "Duplicate billing goes to GBS"),
    (40, "dispute_reason", "PO_MISMATCH", "GBS", MEDIUM, "PO mismatch goes to GBS"),
    (40, "dispute_reason", "TAX", "GBS", MEDIUM, "Tax claims go to GBS"),
    (40, "dispute_reason", "INVOICE_NOT_RECEIVED", "GBS", MEDIUM, "Invoice copies come from GBS"),
    (90, "reason_code", "SLA_BREACH", "TEAM_LEAD", HIGH, "SLA breach with no better match"),
    (90, "reason_code", "SLA_WARNING", "TEAM_LEAD", LOW, "SLA warning with no better match"),
]
TEAMS = ("SALES", "GBS", "LEGAL", "TEAM_LEAD")
# Monday to Friday 09:00-17:00 in Berlin, German public holidays: one place to change per team.
WORKING_WEEK = {str(d): [["09:00", "17:00"]] for d in range(5)}
# Business minutes: 3 business days of 8 hours by default (DOMAIN.md), 1 day when CRITICAL.
OLA_TARGETS = [(team, 0, 3 * 8 * 60) for team in TEAMS] + [(t, CRITICAL, 8 * 60) for t in TEAMS]

rules = sa.table(
    'routing_rules',
    *(sa.column(c) for c in ('id', 'description', 'priority', 'active', 'reason_code',
                             'root_cause', 'dispute_reason', 'customer_flag', 'team', 'severity',
                             'version')),
    sa.column('created_at', common.db.types.UtcDateTime()),
    sa.column('updated_at', common.db.types.UtcDateTime()),
)
calendars = sa.table('team_calendars', *(sa.column(c) for c in ('team', 'time_zone', 'hours', 'country')))
targets = sa.table('ola_targets', *(sa.column(c) for c in ('team', 'severity', 'target_minutes')))
counters = sa.table('sequence_counters', sa.column('name'), sa.column('value'))


def _rule_id(field: str, value: str) -> str:
    return hashlib.blake2b(f"seed:{field}:{value}".encode(), digest_size=16).hexdigest()


def upgrade() -> None:
    conditions = ('reason_code', 'root_cause', 'dispute_reason', 'customer_flag')
    op.bulk_insert(rules, [
        {
            'id': _rule_id(field, value), 'description': text, 'priority': priority,
            'active': True, **{c: (value if c == field else '') for c in conditions},
            'team': team, 'severity': severity, 'version': 1,
            'created_at': SEEDED_AT, 'updated_at': SEEDED_AT,
        }
        for priority, field, value, team, severity, text in RULES
    ])
    op.bulk_insert(calendars, [
        {'team': t, 'time_zone': 'Europe/Berlin', 'hours': json.dumps(WORKING_WEEK), 'country': 'DE'}
        for t in TEAMS
    ])
    op.bulk_insert(targets, [
        {'team': t, 'severity': s, 'target_minutes': m} for t, s, m in OLA_TARGETS
    ])
    op.bulk_insert(counters, [{'name': 'escalation_events', 'value': 0}])


def downgrade() -> None:
    op.execute(counters.delete())
    op.execute(targets.delete())
    op.execute(calendars.delete())
    op.execute(rules.delete().where(rules.c.id.in_([_rule_id(f, v) for _, f, v, *_ in RULES])))
