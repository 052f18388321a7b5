"""How the web app reads and prints money, rates, shares and dates: the one place that does it.

Money arrives as the API's decimal strings (``"5000.00"``), as the marts' DECIMAL(18,2) (``Decimal``) or as
integer cents; it is formatted from those exact values and never passes through ``float``. Charts are the one
place floats appear, built from ``*_cents / 100`` for plotting only (``dashboards/charts.py``). Money typed by
a person is parsed here too, into the two-decimal string the API takes.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MISSING = "—"


class MoneyInputError(ValueError):
    """What a person typed is not an amount of money; the message says why, to show them."""


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents as an exact two-place ``Decimal`` (``500000`` → ``Decimal('5000.00')``)."""
    return Decimal(int(cents)).scaleb(-2)


def to_decimal(value: Decimal | int | str | None) -> Decimal | None:
    """An API decimal string or a mart DECIMAL as ``Decimal``; ``None`` (or a missing value) stays ``None``.
    An ``int`` is whole dollars; floats are refused: money that went through a float has already lost cents."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, float):
        if value != value:  # NaN: pandas' missing value in an object column
            return None
        raise TypeError("money is never a float")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def money(value: Decimal | int | str | None) -> str:
    """``Decimal('5000')`` or ``"5000.00"`` → ``"$5,000.00"``; ``-12.5`` → ``"-$12.50"``; ``None`` → ``"—"``."""
    amount = to_decimal(value)
    if amount is None:
        return MISSING
    amount = amount.quantize(CENT)  # already exact; quantize only pads "5" to "5.00"
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def cents(value: int | None) -> str:
    """Integer cents as money: ``123456`` → ``"$1,234.56"``."""
    return MISSING if value is None or value != value else money(cents_to_decimal(int(value)))


def dollars_whole(value: Decimal | int | str | None) -> str:
    """Large amounts in KPI tiles, to the dollar: ``"$1,234,567"`` (the exact figure is in the tooltip or table)."""
    amount = to_decimal(value)
    if amount is None:
        return MISSING
    whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{'-' if whole < 0 else ''}${abs(whole):,}"


def percent(value: Decimal | str | None) -> str:
    """A rate in percent points, as the API and the marts keep interest rates: ``"12.5"`` → ``"12.50%"``."""
    rate = to_decimal(value)
    return MISSING if rate is None else f"{rate.quantize(CENT):,.2f}%"


def share(value: Decimal | str | float | None, places: int = 1) -> str:
    """A ratio as a percentage: ``Decimal('0.0457')`` → ``"4.6%"`` (ratios are not money; a float is fine)."""
    if value is None or value != value:
        return MISSING
    number = Decimal(str(value)) * 100
    return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,}%"


def day(value: dt.date | dt.datetime | str | None) -> str:
    """A date (or the date part of a timestamp, or an ISO string) as ``YYYY-MM-DD``; missing as ``"—"``."""
    if value is None or value != value:  # NaT compares unequal to itself
        return MISSING
    if isinstance(value, str):
        return value[:10] if value else MISSING
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def moment(value: str | dt.datetime | None) -> str:
    """An API timestamp as ``"2026-11-30 14:05 UTC"``."""
    if value is None or value == "":
        return MISSING
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def month(value: dt.date | str | None) -> str:
    """``2026-11-01`` → ``"Nov 2026"``."""
    if value is None or value != value:
        return MISSING
    when = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return when.strftime("%b %Y")


def parse_money(text: str | Decimal | int | None, *, minimum: Decimal = CENT, step: Decimal | None = None) -> str:
    """What a person typed (``"5,000"``, ``"$25.5"``) as the API's two-decimal string (``"5000.00"``).

    Raises :class:`MoneyInputError` with a sentence to show: not a number, sub-cent, below ``minimum``, or not a
    multiple of ``step`` (notes are bought in $25 steps).
    """
    raw = str(text if text is not None else "").strip().replace(",", "").replace("$", "").replace(" ", "")
    if not raw:
        raise MoneyInputError("Enter an amount.")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise MoneyInputError(f"“{text}” is not an amount of money.") from None
    if not amount.is_finite():
        raise MoneyInputError(f"“{text}” is not an amount of money.")
    if amount != amount.quantize(CENT):
        raise MoneyInputError("Amounts are in whole cents (at most two decimals).")
    if amount < minimum:
        raise MoneyInputError(f"The amount must be at least {money(minimum)}.")
    if step is not None and amount % step != 0:
        raise MoneyInputError(f"The amount must be a multiple of {money(step)}.")
    return f"{amount.quantize(CENT)}"


def parse_rate(text: str | Decimal | None) -> str:
    """An annual rate typed in percent (``"6"``, ``"6.5%"``) as the API's string (``"6.00"``)."""
    raw = str(text if text is not None else "").strip().rstrip("%").strip()
    try:
        rate = Decimal(raw)
    except InvalidOperation:
        raise MoneyInputError(f"“{text}” is not a rate in percent.") from None
    if rate != rate.quantize(CENT):
        raise MoneyInputError("Rates have at most two decimals.")
    return f"{rate.quantize(CENT)}"
