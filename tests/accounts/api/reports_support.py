"""What the accounts report tests share: the shared sample's figures computed by hand (read
straight from its CSV, independently of the import), reading a result's rows, and running a
report as someone."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from google.protobuf.json_format import MessageToDict

from common import actor as actors
from common.protoconv import timestamp
from tests.support.ar_sample import CLEAN, sample
from tests.support.rpc import as_actor

AS_OF = date(2013, 6, 30)
PERIOD = (date(2013, 4, 1), date(2013, 6, 30))


def us(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def raw_rows():
    with sample(CLEAN).open(newline="") as f:
        for row in csv.DictReader(f):
            yield (
                row["customerID"],
                us(row["InvoiceDate"]),
                us(row["DueDate"]),
                us(row["SettledDate"]),
                Decimal(row["InvoiceAmount"]),
            )


def open_on(day: date):
    """(customer, due date, amount) of the invoices open at the end of `day`, by hand."""
    return [
        (c, due, amount) for c, dated, due, settled, amount in raw_rows() if dated <= day < settled
    ]


def round_to(value: Decimal, step: str) -> Decimal:
    return value.quantize(Decimal(step), rounding=ROUND_HALF_EVEN)


def as_of(day: date):
    return timestamp(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12))


def rows_of(table) -> list[list]:
    return [MessageToDict(row) for row in table.rows]


async def run_as(reports, request, subject: str, role: str = "collector"):
    """RunReport as `subject` (a collector unless `role` says otherwise)."""
    token = as_actor(subject, role)
    try:
        return await reports.RunReport(request)
    finally:
        actors.reset_actor(token)
