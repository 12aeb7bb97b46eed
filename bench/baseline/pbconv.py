"""asyncpg records → the accounts API's protobuf messages, by hand: the same response bytes the
service sends (checked by the parity checks), without the Settle kit."""

from __future__ import annotations

import hashlib

from google.protobuf.timestamp_pb2 import Timestamp

from bench.baseline.accounts_sql import BUCKETS
from common.money import MINOR_UNITS  # a constant table of ISO 4217 exponents
from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1 import common_pb2


def money(minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency_code=currency, amount=amount_text(minor, currency))


def amount_text(minor: int, currency: str) -> str:
    exponent = MINOR_UNITS[currency]
    digits = str(abs(minor)).rjust(exponent + 1, "0")
    sign = "-" if minor < 0 else ""
    return sign + digits if exponent == 0 else f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


def timestamp(value) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _contact(c) -> pb.Contact:
    return pb.Contact(
        name=c["name"], email=c["email"], phone=c["phone"], language=c["language"], role=c["role"]
    )


def customer(row, contacts) -> pb.Customer:
    msg = pb.Customer(
        name=f"customers/{row['id']}",
        display_name=row["display_name"],
        external_ref=row["external_ref"] or "",
        country_code=row["country_code"],
        time_zone=row["time_zone"],
        currency_code=row["currency_code"],
        risk_class=pb.RiskClass.Value(row["risk_class"]),
        bankruptcy=row["bankruptcy"],
        in_litigation=row["in_litigation"],
        credit_hold=row["credit_hold"],
        contacts=[_contact(c) for c in contacts],
        etag=hashlib.blake2b(f"{row['id']}:{row['version']}".encode(), digest_size=8).hexdigest(),
        create_time=timestamp(row["created_at"]),
        update_time=timestamp(row["updated_at"]),
    )
    if row["credit_limit_minor"] is not None:
        msg.credit_limit.CopyFrom(money(row["credit_limit_minor"], row["credit_limit_currency"]))
    return msg


def _hold(row, currency: str) -> pb.Hold:
    return pb.Hold(
        name=f"invoices/{row['invoice_id']}/holds/{row['id']}",
        dispute=row["dispute"],
        amount=money(row["amount_minor"], currency),
        released=row["amount_minor"] == 0,
        create_time=timestamp(row["created_at"]),
        update_time=timestamp(row["updated_at"]),
    )


def invoices(rows, lines, holds) -> list[pb.Invoice]:
    lines_of, holds_of = {}, {}
    for line in lines:  # joined rows: the invoice's columns, then the line's
        lines_of.setdefault(line["id"], []).append(line)
    for hold in holds:
        holds_of.setdefault(hold["invoice_id"], []).append(hold)
    out = []
    for r in rows:
        cur, customer_id = r["currency"], r["customer_id"]
        account = r["billing_account_id"]
        out.append(pb.Invoice(
            name=f"invoices/{r['id']}",
            customer=f"customers/{customer_id}",
            billing_account=f"customers/{customer_id}/billingAccounts/{account}" if account else "",
            external_number=r["external_number"],
            invoice_date=r["invoice_date"].isoformat(),
            due_date=r["due_date"].isoformat(),
            amount=money(r["amount_minor"], cur),
            lines=[
                pb.InvoiceLine(line_number=x["line_number"], description=x["description"],
                               quantity=x["quantity"], amount=money(x["line_amount_minor"], cur),
                               kind=x["kind"])
                for x in lines_of.get(r["id"], ())
            ],
            open_amount=money(r["open_minor"], cur),
            held_amount=money(r["held_minor"], cur),
            collectible_amount=money(r["open_minor"] - r["held_minor"], cur),
            status=pb.OPEN if r["open_minor"] > 0 else pb.CLOSED,
            holds=[_hold(h, cur) for h in holds_of.get(r["id"], ()) if h["amount_minor"] > 0],
            create_time=timestamp(r["created_at"]),
        ))  # fmt: skip
    return out


def aging_totals(as_of, rows) -> pb.AgingReport:
    cells: dict[str, dict[str, tuple[int, int, int]]] = {}
    for r in rows:
        cells.setdefault(r["currency"], {})[r["bucket"]] = (
            int(r["collectible"]),
            int(r["held"]),
            r["n"],
        )
    totals = []
    for cur in sorted(cells):
        amounts = [(code, label, *cells[cur].get(code, (0, 0, 0))) for code, label, *_ in BUCKETS]
        totals.append(pb.AgingRow(
            currency_code=cur,
            buckets=[
                pb.AgingBucketAmount(bucket=code, label=label, amount=money(c, cur),
                                     held=money(h, cur), invoice_count=n)
                for code, label, c, h, n in amounts
            ],
            total_open=money(sum(c + h for _, _, c, h, _ in amounts), cur),
            total_held=money(sum(h for _, _, _, h, _ in amounts), cur),
        ))  # fmt: skip
    return pb.AgingReport(as_of=as_of.isoformat(), totals=totals)
