"""The platform's notion of now. Everything that stamps a date asks here, so the demo seeder can
replay months of history and tests can pin the date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

_frozen: ContextVar[datetime | None] = ContextVar("peerlend_frozen_now", default=None)


def utcnow() -> datetime:
    return _frozen.get() or datetime.now(UTC)


def today() -> date:
    return utcnow().date()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    token = _frozen.set(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
