"""The seed rows of migration 0001 (DOMAIN.md): code lists, the default calendar and the default
SLA policies. Data, not code: every value here can be changed through the API afterwards. Frozen
with that migration, like it: a later change of defaults is a new migration, not an edit here."""

from datetime import UTC, datetime

import sqlalchemy as sa

import common.db.types

REASONS = [
    # code, display name, X12 426 code, requires note
    ("PRICING", "Pricing", "01", False),
    ("QTY_SHORT", "Quantity short", "06", False),
    ("DAMAGED", "Damaged goods", "04", False),
    ("QUALITY", "Quality", "05", False),
    ("WRONG_ITEM", "Wrong item", "07", False),
    ("NOT_RECEIVED", "Not received (proof of delivery needed)", "59", False),
    ("DUPLICATE_BILLING", "Duplicate billing", "19", False),
    ("PO_MISMATCH", "PO mismatch", "", False),
    ("TAX", "Tax", "55", False),
    ("FREIGHT", "Freight", "54", False),
    ("DISCOUNT_TERMS", "Discount or terms", "09", False),
    ("PROMO_TRADE", "Promotion or trade spend", "", False),
    ("RETURN_NOT_CREDITED", "Return not credited", "", False),
    ("SERVICE_NOT_RENDERED", "Service not rendered", "", False),
    ("INVOICE_NOT_RECEIVED", "Invoice not received", "", False),
    ("CONTRACT_TERMS", "Contract terms", "", False),
    ("OTHER", "Other (needs a note)", "", True),
]
ROOT_CAUSES = [
    ("SALES_PRICING_ERROR", "Sales pricing error", "SALES"),
    ("CONTRACT_TERMS", "Contract terms", "SALES"),
    ("ORDER_ENTRY_ERROR", "Order entry error", "SALES"),
    ("PROMO_NOT_SET_UP", "Promotion not set up", "SALES"),
    ("BILLING_ERROR", "Billing error", "GBS"),
    ("MASTER_DATA_ERROR", "Master data error", "GBS"),
    ("CASH_APPLICATION_ERROR", "Cash application error", "GBS"),
    ("TAX_SETUP", "Tax setup", "GBS"),
    ("LOGISTICS_SHORT_SHIP", "Logistics short ship", "LOGISTICS"),
    ("CARRIER_DAMAGE", "Carrier damage", "LOGISTICS"),
    ("PRODUCT_QUALITY", "Product quality", "OPERATIONS"),
    ("CUSTOMER_ERROR", "Customer error", "CUSTOMER"),
    ("VALID_DEDUCTION", "Valid deduction", "NONE"),
    ("FRAUD_OR_LEGAL", "Fraud or legal", "LEGAL"),
]
POLICIES = [
    # id, name, clock, value, unit, reasons, precedence
    (
        "acknowledge-default",
        "Acknowledge within 1 business day",
        "ACKNOWLEDGE",
        1,
        "BUSINESS_DAYS",
        "",
        0,
    ),
    ("resolve-default", "Resolve within 10 business days", "RESOLVE", 10, "BUSINESS_DAYS", "", 0),
    (
        "resolve-fast",
        "Pricing and duplicate billing: 5 business days",
        "RESOLVE",
        5,
        "BUSINESS_DAYS",
        "PRICING,DUPLICATE_BILLING",
        10,
    ),
    (
        "resolve-slow",
        "Quality and contract terms: 15 business days",
        "RESOLVE",
        15,
        "BUSINESS_DAYS",
        "QUALITY,CONTRACT_TERMS",
        10,
    ),
]


def seed(op) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def table(name, *columns):
        typed = {"created_at", "updated_at"}
        return sa.table(
            name,
            *(
                sa.column(c, common.db.types.UtcDateTime()) if c in typed else sa.column(c)
                for c in columns
            ),
        )

    reasons = table(
        "reason_codes",
        *(
            "code",
            "display_name",
            "description",
            "x12_code",
            "edifact_code",
            "requires_note",
            "active",
            "created_at",
        ),
    )
    op.bulk_insert(
        reasons,
        [
            dict(
                code=c,
                display_name=n,
                description="",
                x12_code=x12,
                edifact_code="",
                requires_note=note,
                active=True,
                created_at=now,
            )
            for c, n, x12, note in REASONS
        ],
    )
    causes = table(
        "root_causes",
        *(
            "code",
            "display_name",
            "description",
            "owning_team",
            "requires_note",
            "active",
            "created_at",
        ),
    )
    op.bulk_insert(
        causes,
        [
            dict(
                code=c,
                display_name=n,
                description="",
                owning_team=team,
                requires_note=False,
                active=True,
                created_at=now,
            )
            for c, n, team in ROOT_CAUSES
        ],
    )
    calendars = table(
        "calendars",
        *(
            "id",
            "display_name",
            "time_zone",
            "hours",
            "country_code",
            "subdivision",
            "extra_holidays",
            "extra_working_days",
            "customer_id",
            "team",
            "version",
            "created_at",
            "updated_at",
        ),
    )
    op.bulk_insert(
        calendars,
        [
            dict(
                id="default",
                display_name="Monday to Friday 09:00-17:00 UTC",
                time_zone="UTC",
                hours="",
                country_code="",
                subdivision="",
                extra_holidays="",
                extra_working_days="",
                customer_id=None,
                team="",
                version=1,
                created_at=now,
                updated_at=now,
            )
        ],
    )
    policies = table(
        "sla_policies",
        *(
            "id",
            "display_name",
            "clock_kind",
            "target_value",
            "target_unit",
            "reason_codes",
            "priorities",
            "risk_classes",
            "amount_currency",
            "min_amount_minor",
            "max_amount_minor",
            "warning_percents",
            "calendar_id",
            "precedence",
            "active",
            "version",
            "created_at",
            "updated_at",
        ),
    )
    op.bulk_insert(
        policies,
        [
            dict(
                id=i,
                display_name=n,
                clock_kind=k,
                target_value=v,
                target_unit=u,
                reason_codes=r,
                priorities="",
                risk_classes="",
                amount_currency=None,
                min_amount_minor=None,
                max_amount_minor=None,
                warning_percents="50,75",
                calendar_id=None,
                precedence=p,
                active=True,
                version=1,
                created_at=now,
                updated_at=now,
            )
            for i, n, k, v, u, r, p in POLICIES
        ],
    )
