"""How the dashboards print money, rates and dates.

Money arrives from the marts as DECIMAL(18,2) (Python ``Decimal``) or as integer cents; it is formatted from
those exact values and never passes through ``float``. Charts are the one place floats appear, built from
``*_cents / 100`` for plotting only (see ``dashboards/charts.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

CENT = Decimal("0.01")
MISSING = "—"


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents as an exact two-place ``Decimal`` (``500000`` → ``Decimal('5000.00')``)."""
    return Decimal(int(cents)).scaleb(-2)


def money(value: Decimal | int | None) -> str:
    """``Decimal('5000')`` → ``"$5,000.00"``; ``Decimal('-12.5')`` → ``"-$12.50"``; ``None`` → ``"—"``.

    An ``int`` is taken as whole dollars (DuckDB returns ``SUM`` of a DECIMAL as a DECIMAL, so this only
    matters for literals). Floats are refused: money that went through a float has already lost cents.
    """
    if value is None:
        return MISSING
    if isinstance(value, float):
        raise TypeError("money() takes Decimal or int, never float")
    amount = Decimal(value).quantize(CENT)  # DECIMAL(18,2) is already exact; quantize only pads "5" to "5.00"
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def percent(value: Decimal | None) -> str:
    """An interest rate stored as percent points, DECIMAL(6,2): ``Decimal('12.5')`` → ``"12.50%"``."""
    if value is None:
        return MISSING
    return f"{Decimal(value).quantize(CENT):,.2f}%"


def day(value: dt.date | dt.datetime | None) -> str:
    """A date (or the date part of a timestamp) as ISO ``YYYY-MM-DD``; missing dates as ``"—"``."""
    if value is None or value != value:  # NaT compares unequal to itself
        return MISSING
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()
