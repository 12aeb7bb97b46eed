"""Open-item CSV files in the layout of the shared IBM sample
(`ColumnMapping.sample_file()`): about 50 items per customer, 10-digit invoice numbers, US dates,
one country per customer, 10 % already settled (imported with a payment and its allocation)."""

from __future__ import annotations

import random
from datetime import date, timedelta

HEADER = (
    "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
    "Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate"
)
COUNTRIES = ("391", "406", "770", "818", "897")
SETTLED = 0.10
START = date(2025, 1, 1)


def _us(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def _customer_ref(n: int) -> str:
    letters = "".join(chr(65 + (n // 26**k) % 26) for k in range(5))
    return f"{n % 10_000:04d}-{letters}"


def generate(rows: int, *, seed: int = 11, first_number: int = 1_000_000_000) -> bytes:
    """`first_number` lets two files in one database use different invoice numbers."""
    rnd = random.Random(seed)
    customers = max(1, rows // 50)
    lines = [HEADER]
    for i in range(rows):
        cust = rnd.randrange(customers)
        invoiced = START + timedelta(days=rnd.randrange(0, 420))
        due = invoiced + timedelta(days=30)
        settled = (
            invoiced + timedelta(days=rnd.randrange(1, 60)) if rnd.random() < SETTLED else None
        )
        days = (settled - invoiced).days if settled else None
        paperless = invoiced - timedelta(days=90)
        lines.append(",".join((
            COUNTRIES[cust % len(COUNTRIES)], _customer_ref(cust), _us(paperless),
            f"{first_number + i:010d}", _us(invoiced), _us(due),
            f"{rnd.randrange(1_000, 250_000) / 100:.2f}", "Yes" if rnd.random() < 0.1 else "No",
            _us(settled) if settled else "", rnd.choice(("Paper", "Electronic")),
            str(days) if settled else "", str(max(0, days - 30)) if settled else "",
        )))  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def settled_count(data: bytes) -> int:
    return sum(1 for line in data.decode().splitlines()[1:] if line.split(",")[8])
