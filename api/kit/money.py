"""Money and rates: the one module that owns parsing, formatting and rounding.

- Storage: integer cents. Arithmetic: `Decimal`. JSON: strings with exactly two decimals.
- Rounding rule: half up to the cent (`round_half_up`, on exact rationals), used for schedule
  payments and interest. Splits never round each part independently; `allocation.split_pro_rata` hands the
  leftover cents out by a stated rule so parts always sum to the whole.
- Rates: annual percent with at most two decimals ("6.00"), stored as integer basis points (600).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_CENTS = 10**15  # far above any loan; keeps sums well inside BIGINT
# Plain ASCII decimals only: no exponents, underscores or non-ASCII digits, and at most 18 digits
# each side, so quantizing can never overflow the decimal context.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")


class MoneyError(ValueError):
    pass


def to_decimal(value: object, what: str = "amount") -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f'{what} must be a decimal string such as "25.00", not a {type(value).__name__}')
    text = str(value).strip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise MoneyError(f'{what} must be a plain decimal number such as "25.00"')
    try:
        return Decimal(text)
    except InvalidOperation:
        raise MoneyError(f'{what} must be a plain decimal number such as "25.00"') from None


def parse_cents(value: object, what: str = "amount", *, allow_zero: bool = False) -> int:
    """A money amount from the outside world into integer cents; refuses sub-cent precision."""
    number = to_decimal(value, what)
    if number != number.quantize(CENT):
        raise MoneyError(f"{what} has more than two decimal places: {value}")
    cents = int(number * HUNDRED)
    if cents < 0 or (cents == 0 and not allow_zero):
        raise MoneyError(f"{what} must be greater than zero")
    if cents > MAX_CENTS:
        raise MoneyError(f"{what} is too large")
    return cents


def format_cents(cents: int) -> str:
    """Integer cents to the JSON form, e.g. 500000 -> "5000.00"."""
    return str((Decimal(cents) / HUNDRED).quantize(CENT))


def round_half_up(amount_in_cents: Fraction) -> int:
    """Round an exact (rational) number of cents to a whole cent, half up (away from zero)."""
    if amount_in_cents < 0:
        return -round_half_up(-amount_in_cents)
    return math.floor(amount_in_cents + Fraction(1, 2))


def parse_rate_bps(value: object, what: str = "interest_rate") -> int:
    """An annual percentage rate ("6.00") into basis points (600)."""
    number = to_decimal(value, what)
    if number != number.quantize(CENT):
        raise MoneyError(f"{what} has more than two decimal places: {value}")
    return int(number * HUNDRED)


def format_rate(bps: int) -> str:
    return str((Decimal(bps) / HUNDRED).quantize(CENT))
