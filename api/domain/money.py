"""Money and rates: the one module that owns parsing, formatting and rounding.

- Storage: integer cents. Arithmetic: `Decimal`. JSON: strings with exactly two decimals.
- Rounding rule: ROUND_HALF_UP to the cent (`round_cents`), used for schedule payments and
  interest. Splits never round each part independently; `allocation.split_pro_rata` hands the
  leftover cents out by a stated rule so parts always sum to the whole.
- Rates: annual percent with at most two decimals ("6.00"), stored as integer basis points (600).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_CENTS = 10**15  # far above any loan; keeps sums well inside BIGINT


class MoneyError(ValueError):
    pass


def to_decimal(value: object, what: str = "amount") -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f'{what} must be a decimal string such as "25.00", not a {type(value).__name__}')
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise MoneyError(f'{what} must be a decimal number such as "25.00", got {value!r}') from None
    if not number.is_finite():
        raise MoneyError(f"{what} must be a finite number")
    return number


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


def round_cents(amount_in_cents: Decimal) -> int:
    """Round a Decimal number of cents to a whole cent, half up."""
    return int(amount_in_cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_rate_bps(value: object, what: str = "interest_rate") -> int:
    """An annual percentage rate ("6.00") into basis points (600)."""
    number = to_decimal(value, what)
    if number != number.quantize(CENT):
        raise MoneyError(f"{what} has more than two decimal places: {value}")
    return int(number * HUNDRED)


def format_rate(bps: int) -> str:
    return str((Decimal(bps) / HUNDRED).quantize(CENT))
