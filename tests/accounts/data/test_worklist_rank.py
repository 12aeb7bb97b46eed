"""The ranking the database runs (data/worklist_rank.py) is domain/worklist.rank, on SQLite and
PostgreSQL: for random facts and random strategies, the same customers on the list, the same
scores, the same order, the same page and the same counts. One meaning of a rule, whichever side
computes it: this fails when either drifts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, delete

from common.db import Database
from common.db.types import UtcDateTime
from services.accounts.data import worklist_rank
from services.accounts.domain import worklist
from services.accounts.domain.worklist import FACTS, CustomerFacts, Rule, Strategy

_meta = MetaData()
# A book of any facts: CustomerFacts' fields as columns, typed as the real book's.
BOOK = Table(
    "ranked_book",
    _meta,
    Column("customer_id", String(32), primary_key=True),
    Column("display_name", String(200)),
    Column("collector", String(200)),
    Column("currency", String(3)),
    *(Column(n, BigInteger) for n in ("open_minor", "held_minor", "promised_minor")),
    Column("overdue_minor", BigInteger),
    Column("oldest_due", Date, nullable=True),
    Column("broken_promises", Integer),
    Column("promise_due_today", Integer),
    Column("last_contact_at", UtcDateTime(), nullable=True),
    Column("call_back_at", UtcDateTime(), nullable=True),
    Column("open_disputes", Integer),
    *(Column(n, Boolean) for n in ("credit_hold", "bankruptcy", "in_litigation")),
    Column("risk_class", String(16)),
    Column("phone_task_at", UtcDateTime(), nullable=True),
)
CURRENCIES = ("EUR", "EUR", "JPY", "KWD", "CLF", "")
EXAMPLES = 120


def _moment(rnd: random.Random, now: datetime, days: int) -> datetime | None:
    """None, or within `days` either side of now (across midnights, to the microsecond)."""
    if rnd.random() < 0.3:
        return None
    return now + timedelta(seconds=rnd.randint(-days * 86_400, days * 86_400 // 4))


def _facts(rnd: random.Random, n: int, now: datetime, today: date) -> CustomerFacts:
    opened = rnd.choice((0, rnd.randint(1, 2_000_000)))
    held = rnd.randint(0, opened)
    return CustomerFacts(
        customer_id=f"{rnd.getrandbits(128):032x}",
        display_name=f"customer {n}",
        collector="user:carl",
        currency=rnd.choice(CURRENCIES),
        open_minor=opened,
        held_minor=held,
        promised_minor=rnd.choice((0, 0, rnd.randint(0, opened))),
        overdue_minor=rnd.randint(0, opened),
        oldest_due=rnd.choice((None, today - timedelta(days=rnd.randint(1, 150)))),
        broken_promises=rnd.choice((0, 0, 1, 2, 5)),
        promise_due_today=rnd.random() < 0.2,
        last_contact_at=_moment(rnd, now, 40),
        call_back_at=_moment(rnd, now, 3),
        open_disputes=rnd.choice((0, 0, 1, 3)),
        credit_hold=rnd.random() < 0.3,
        bankruptcy=rnd.random() < 0.2,
        in_litigation=rnd.random() < 0.2,
        risk_class=rnd.choice(("LOW", "MEDIUM", "HIGH", "OTHER")),
        phone_task_at=_moment(rnd, now, 20),
    )


def _bound(rnd: random.Random, fact: str) -> Decimal | None:
    if rnd.random() < 0.3:
        return None
    if fact == "overdue_amount":  # major units, up to 4 decimals (CLF), and beyond
        return Decimal(rnd.randint(-100, 2_000_000)).scaleb(-rnd.randint(0, 6))
    whole = Decimal(rnd.randint(-2, 60 if fact.endswith("days") else 4))
    return whole + rnd.choice((0, 0, Decimal("0.5"), Decimal("-0.25")))


def _rule(rnd: random.Random, n: int) -> Rule:
    fact = rnd.choice(FACTS)
    low, high = _bound(rnd, fact), _bound(rnd, fact)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Rule(f"R{n}", f"rule {n}", fact, low, high, rnd.randint(-20, 60))


@pytest.fixture
async def db(backend, database_factory):
    database = Database.from_url(database_factory.new_url(backend, "accounts"))
    async with database.engine.begin() as conn:
        await conn.run_sync(_meta.create_all)
    try:
        yield database
    finally:
        await database.dispose()


async def test_the_database_ranks_as_the_domain_does(db):
    rnd = random.Random(13)
    agreed_scores = 0
    for _ in range(EXAMPLES):
        now = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(seconds=rnd.randint(0, 86_399))
        today = now.date()
        facts = [_facts(rnd, n, now, today) for n in range(rnd.randint(0, 25))]
        rules = tuple(_rule(rnd, n) for n in range(rnd.randint(0, 10)))
        items, done = worklist.rank(facts, Strategy(0, rules), now, today)
        offset = rnd.choice((0, rnd.randint(0, len(items) + 1)))
        size = rnd.randint(1, 30)
        placed = {f.customer_id: f.promised_minor for f in facts if f.promised_minor}
        async with db.transaction() as session:
            await session.execute(delete(BOOK))
            if facts:
                rows = [f._asdict() for f in facts]
                for row in rows:
                    row["promise_due_today"] = int(row["promise_due_today"])
                await session.execute(BOOK.insert(), rows)
        async with db.reading_connection() as conn:
            stmt = worklist_rank.ranking(BOOK, rules, conn.dialect.name)
            values = worklist_rank.parameters(placed, now, today, offset, size)
            ranked = worklist_rank.ranked_page((await conn.execute(stmt, values)).all())
        expected = [(i.facts, i.score) for i in items[offset : offset + size]]
        assert (ranked.on_list, ranked.done_today) == (len(items), done)
        assert ranked.items == expected, (rules, now)
        agreed_scores += len(ranked.items)
    assert agreed_scores > 400  # the examples do reach pages of items
