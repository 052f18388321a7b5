"""What every table shares: the declarative base, id and timestamp types.

Money is stored as integer cents (`*_cents`, BIGINT) and annual interest rates as integer basis points
(`*_bps`, 600 = 6.00 %). Nothing is ever a float. Alembic migrations are the source of truth for the
database; the mappings in each domain's `tables.py` must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.kit.clock import utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; BIGINT keys elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC and always timezone-aware in Python, also on SQLite, which stores
    them without an offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData()


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), server_default=func.current_timestamp(), nullable=False)


def updated_at_column() -> Mapped[datetime]:
    """Set on every change by the code that changes the row (ORM and Core alike, set-based jobs
    included): the warehouse extracts mutable tables incrementally past this watermark."""
    return mapped_column(
        UtcDateTime(),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
        nullable=False,
        index=True,
    )
