"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

TIMESTAMPTZ_OID = 1184  # PostgreSQL's timestamptz, as asyncpg reports a result column's type


class UtcDateTime(TypeDecorator):
    """Always-aware UTC datetimes. SQLite has no time zones, so values are stored as naive UTC and
    given their zone back on the way out; PostgreSQL uses timestamptz."""

    impl = DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True):
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect, coltype):
        # asyncpg already gives timestamptz as aware UTC datetimes, what process_result_value would
        # return (±infinity aside, which nothing writes): no call per value, as a listed page reads
        # thousands of them.
        if dialect.driver == "asyncpg" and coltype == TIMESTAMPTZ_OID:
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
