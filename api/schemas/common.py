"""Shared field types: money and rates travel as decimal strings with two places."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

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


MAX_ID = 2**53 - 1  # ids fit BIGINT and stay exact as JSON numbers (IEEE doubles) for every client
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
LoanIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A loan's id")]
CursorQuery = Annotated[
    str | None, Query(max_length=19, pattern=r"^[0-9]+$", description="next_cursor of the previous page")
]


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    if isinstance(value, dict):
        for item in value.values():
            _reject_nul(item)
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class RequestModel(BaseModel):
    """Base of every request body: unknown fields and NUL characters (which PostgreSQL cannot store)
    are refused as validation errors."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return _reject_nul(data)
