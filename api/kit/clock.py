"""The platform's notion of now. Everything that stamps a date asks here, so the demo seeder can
replay months of history and tests can pin the date.

The override is process-wide (not a context variable) because requests run on worker threads
that do not inherit the caller's context; only the demo seeder and tests set it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen or datetime.now(UTC)


def today() -> date:
    return utcnow().date()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    global _frozen
    previous = _frozen
    _frozen = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        yield
    finally:
        _frozen = previous
