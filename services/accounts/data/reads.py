"""The read paths (GetCustomer, ListCustomers, GetInvoice, ListInvoices) as Core statements built
once and read as plain rows: no identity map, no lazy loads, no statement built per call.

SQLAlchemy memoises a statement's cache key on the statement object, so reusing the object skips
most of the per-call work (docs/benchmarks.md, bottleneck 1). A list's filter values, offset and
limit are bound parameters: one statement per filter shape, kept in a small LRU cache.
Each answer is one statement — children joined, the page in a subquery so LIMIT counts parents —
plus the holds of the invoices that hold something, so a read needs no transaction. An invoice
read also says whether its customer has an open promise, so the promise placement
(service/promised.py) is read only for those: most customers have none.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, case, exists, select

from common.db.driver_reads import fetch_rows
from common.db.query import apply_filter, apply_order_and_page
from common.listing import Page, Term
from services.accounts.data.collections_models import PromiseRow
from services.accounts.data.dunning_models import LegalCaseRow
from services.accounts.data.models import (
    ContactRow,
    CustomerRow,
    HoldRow,
    InvoiceLineRow,
    InvoiceRow,
)
from services.accounts.data.repository import missing
from services.accounts.domain.legal import LegalState
from services.accounts.domain.promises import PromiseState

_customers = CustomerRow.__table__
_contacts = ContactRow.__table__
_invoices = InvoiceRow.__table__
_lines = InvoiceLineRow.__table__
_holds = HoldRow.__table__
_promises = PromiseRow.__table__

CUSTOMER_COLUMNS = {
    "country_code": _customers.c.country_code,
    "risk_class": _customers.c.risk_class,
    "external_ref": _customers.c.external_ref,
    "bankruptcy": _customers.c.bankruptcy,
    "in_litigation": _customers.c.in_litigation,
    "credit_hold": _customers.c.credit_hold,
    "display_name": _customers.c.display_name,
    "create_time": _customers.c.created_at,
}
INVOICE_COLUMNS = {
    "customer": _invoices.c.customer_id,
    "currency_code": _invoices.c.currency,
    "external_number": _invoices.c.external_number,
    "due_date": _invoices.c.due_date,
    "invoice_date": _invoices.c.invoice_date,
    "create_time": _invoices.c.created_at,
    "status": case((_invoices.c.open_minor > 0, "OPEN"), else_="CLOSED"),
}
# Beside their parent's columns without a name clash; all NULL for a parent without children.
_CONTACT = (
    _contacts.c.position,
    _contacts.c.name,
    _contacts.c.email,
    _contacts.c.phone,
    _contacts.c.language,
    _contacts.c.role,
)
_LINE = (
    _lines.c.line_number,
    _lines.c.description,
    _lines.c.quantity,
    _lines.c.amount_minor.label("line_amount_minor"),
    _lines.c.kind,
)

CUSTOMER = (
    select(_customers, *_CONTACT)
    .outerjoin(_contacts, _contacts.c.customer_id == _customers.c.id)
    .where(_customers.c.id == bindparam("id"))
    .order_by(_contacts.c.position)
)
_OPEN_PROMISE = (
    exists()
    .where(
        _promises.c.customer_id == _invoices.c.customer_id,
        _promises.c.state == PromiseState.OPEN.value,
    )
    .label("customer_has_open_promise")
)
INVOICE = (
    select(_invoices, _OPEN_PROMISE, *_LINE)
    .outerjoin(_lines, _lines.c.invoice_id == _invoices.c.id)
    .where(_invoices.c.id == bindparam("id"))
    .order_by(_lines.c.line_number)
)
# Only asked for invoices with a held amount: held_minor is the sum of their holds, kept in the
# same transaction as every hold change (ledger_ops), and released holds (0) are not shown.
HOLDS = (
    select(_holds)
    .where(_holds.c.invoice_id.in_(bindparam("ids", expanding=True)))
    .order_by(_holds.c.created_at)
)
# A hold with its invoice's currency: what PlaceHold and ReleaseHold answer when replayed.
HOLD = (
    select(_holds, _invoices.c.currency)
    .join(_invoices, _invoices.c.id == _holds.c.invoice_id)
    .where(_holds.c.id == bindparam("id"))
)
_PAGE = Page(bindparam("offset", type_=Integer), bindparam("limit", type_=Integer))


# Rows are read into namedtuples of the statements' columns, in their order (tests/accounts/data
# checks that they match): a Row's attribute access costs ~1.5 µs (a Python-level __getattr__),
# a namedtuple's a twentieth, and a converted invoice reads about fifteen.
class CustomerRecord(NamedTuple):
    """A customer row joined with one of its contacts (contact columns None without one)."""

    id: str
    display_name: str
    external_ref: str | None
    country_code: str
    time_zone: str
    currency_code: str
    risk_class: str
    credit_limit_minor: int | None
    credit_limit_currency: str | None
    bankruptcy: bool
    in_litigation: bool
    credit_hold: bool
    dunning_block: bool
    dunned_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    position: int | None
    name: str | None
    email: str | None
    phone: str | None
    language: str | None
    role: str | None


class InvoiceRecord(NamedTuple):
    """An invoice row joined with one of its lines (line columns None without one)."""

    id: str
    customer_id: str
    billing_account_id: str | None
    external_number: str
    invoice_date: date
    due_date: date
    currency: str
    amount_minor: int
    open_minor: int
    held_minor: int
    closed_date: date | None
    import_fingerprint: str | None
    created_at: datetime
    customer_has_open_promise: bool
    line_number: int | None
    description: str | None
    quantity: str | None
    line_amount_minor: int | None
    kind: str | None


class HoldRecord(NamedTuple):
    id: str
    invoice_id: str
    dispute: str
    amount_minor: int
    created_at: datetime
    updated_at: datetime


class Contact(NamedTuple):
    """A contact from the joined row (the attribute names of ContactRow)."""

    position: int
    name: str
    email: str
    phone: str
    language: str
    role: str


class Line(NamedTuple):
    """An invoice line from the joined row (the attribute names of InvoiceLineRow)."""

    line_number: int
    description: str
    quantity: str
    amount_minor: int
    kind: str


class CustomerRead(NamedTuple):
    row: CustomerRecord
    contacts: list[Contact]


class InvoiceRead(NamedTuple):
    row: InvoiceRecord
    lines: list[Line]
    holds: list[HoldRecord]


async def customer(conn, customer_id: str) -> CustomerRead:
    rows = await _read(conn, CUSTOMER, {"id": customer_id}, CustomerRecord)
    if not rows:
        raise missing("customer", customer_id)
    return _customer(rows)


async def customers(
    conn, terms: list[Term], order: tuple[str, bool], page: Page, with_legal: bool = False
) -> list[CustomerRead]:
    """`with_legal`: only customers with an active legal case (a Legal user's list)."""
    stmt = _customers_page(_shape(terms, order), with_legal)
    rows = await _read(conn, stmt, _params(terms, page), CustomerRecord)
    return [_customer(list(group)) for _, group in groupby(rows, attrgetter("id"))]


async def invoice(conn, invoice_id: str) -> InvoiceRead:
    rows = await _read(conn, INVOICE, {"id": invoice_id}, InvoiceRecord)
    if not rows:
        raise missing("invoice", invoice_id)
    return (await _with_holds(conn, [rows]))[0]


async def invoices(
    conn, terms: list[Term], order: tuple[str, bool], page: Page, with_legal: bool = False
) -> list[InvoiceRead]:
    """`with_legal`: only invoices of customers with an active legal case."""
    stmt = _invoices_page(_shape(terms, order), with_legal)
    rows = await _read(conn, stmt, _params(terms, page), InvoiceRecord)
    return await _with_holds(conn, [list(group) for _, group in groupby(rows, attrgetter("id"))])


async def hold(conn, hold_id: str) -> tuple[HoldRecord, str]:
    """(the hold, its invoice's currency)."""
    *columns, currency = (await conn.execute(HOLD, {"id": hold_id})).one()
    return HoldRecord._make(columns), currency


async def _read(conn, stmt, params: dict[str, Any], record: type) -> list:
    return list(map(record._make, await fetch_rows(conn, stmt, params)))


def _customer(rows: list[CustomerRecord]) -> CustomerRead:
    return CustomerRead(
        rows[0], [Contact._make(r[-len(_CONTACT) :]) for r in rows if r.position is not None]
    )


async def _with_holds(conn, groups: list[list[InvoiceRecord]]) -> list[InvoiceRead]:
    held = [g[0].id for g in groups if g[0].held_minor]
    holds_of: dict[str, list[HoldRecord]] = {}
    if held:
        for hold in await _read(conn, HOLDS, {"ids": held}, HoldRecord):
            holds_of.setdefault(hold.invoice_id, []).append(hold)
    return [
        InvoiceRead(
            g[0],
            [Line._make(r[-len(_LINE) :]) for r in g if r.line_number is not None],
            holds_of.get(g[0].id, []),
        )
        for g in groups
    ]


# --- lists: one statement per (filter fields and operators, order) ----------------------------
Shape = tuple[tuple[tuple[str, str], ...], str, bool]


def _shape(terms: list[Term], order: tuple[str, bool]) -> Shape:
    return tuple((t.field, t.op) for t in terms), order[0], order[1]


def _params(terms: list[Term], page: Page) -> dict[str, Any]:
    params: dict[str, Any] = {f"v{i}": t.value for i, t in enumerate(terms)}
    params.update(offset=page.offset, limit=page.size)
    return params


_legal_cases = LegalCaseRow.__table__
_WITH_LEGAL = select(_legal_cases.c.customer_id).where(
    _legal_cases.c.state != LegalState.CLOSED.value
)


def _paged(
    table, columns, shape: Shape, child_key, children, child_order, legal_customer=None, extra=()
) -> Select:
    """The page of parents (filtered, ordered, limited, with the `extra` columns of each) in a
    subquery, its children joined; with `legal_customer` (the parent's customer column) only
    customers with an active legal case."""
    fields, field, descending = shape
    terms = [Term(name, op, bindparam(f"v{i}")) for i, (name, op) in enumerate(fields)]
    inner = apply_filter(select(table, *extra), terms, columns)
    if legal_customer is not None:
        inner = inner.where(legal_customer.in_(_WITH_LEGAL))
    # the page's numbers as parameters too, so one statement serves every page
    page = apply_order_and_page(inner, (field, descending), columns, table.c.id, _PAGE).subquery()
    by, tie = page.c[columns[field].name], page.c.id
    return (
        select(page, *children)
        .outerjoin(child_key.table, child_key == page.c.id)
        .order_by(by.desc() if descending else by, tie.desc() if descending else tie, child_order)
    )


@lru_cache(maxsize=128)
def _customers_page(shape: Shape, with_legal: bool) -> Select:
    return _paged(
        _customers, CUSTOMER_COLUMNS, shape, _contacts.c.customer_id, _CONTACT,
        _contacts.c.position, _customers.c.id if with_legal else None,
    )  # fmt: skip


@lru_cache(maxsize=128)
def _invoices_page(shape: Shape, with_legal: bool) -> Select:
    return _paged(
        _invoices, INVOICE_COLUMNS, shape, _lines.c.invoice_id, _LINE, _lines.c.line_number,
        _invoices.c.customer_id if with_legal else None, (_OPEN_PROMISE,),
    )  # fmt: skip
