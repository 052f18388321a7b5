"""Shared field types: money and rates travel as decimal strings with two places."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

from api.domain.money import MoneyError, to_decimal

MONEY_PATTERN = r"^-?\d+\.\d{2}$"


def _money_input(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('send money as a decimal string such as "25.00" (floats lose cents)')
    try:
        number = to_decimal(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"{value} has more than two decimal places")
    if number <= 0:
        raise ValueError("must be greater than zero")
    return number


def _rate_input(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('send the rate as a decimal string of annual percent such as "6.00"')
    try:
        number = to_decimal(value, "interest_rate")
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"{value} has more than two decimal places")
    return number


def _two_places(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_input),
    PlainSerializer(_two_places, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": MONEY_PATTERN, "examples": ["25.00"]}),
]
RateIn = Annotated[
    Decimal,
    BeforeValidator(_rate_input),
    PlainSerializer(_two_places, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": MONEY_PATTERN, "examples": ["6.00"]}),
]
MoneyOut = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["5000.00"])]
