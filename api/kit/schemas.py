"""Field types every domain's schemas share.

Money crosses the API boundary through exactly two types:
- `MoneyIn` on requests: a JSON decimal string with at most two places ("25.00") becomes integer cents;
  numbers (floats lose cents; an integer would be ambiguous between dollars and cents) are refused.
- `Cents` on responses: integer cents are written as a two-place decimal string ("25.00").
Rates travel as annual percent strings ("6.00") and are basis points (600) inside.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from api.kit.money import MoneyError, format_cents, format_rate, parse_cents, parse_rate_bps

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
_MONEY_SCHEMA = {"type": "string", "pattern": MONEY_PATTERN, "examples": ["25.00"]}
_RATE_SCHEMA = {"type": "string", "pattern": MONEY_PATTERN, "examples": ["6.00"]}


def _require_text(value: Any, what: str, example: str) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f'send {what} as a decimal string such as "{example}", not a JSON number')


def _positive_cents(value: Any) -> int:
    try:
        return parse_cents(_require_text(value, "money", "25.00"))
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _non_negative_cents(value: Any) -> int:
    try:
        return parse_cents(_require_text(value, "money", "25.00"), allow_zero=True)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _rate_bps(value: Any) -> int:
    try:
        return parse_rate_bps(_require_text(value, "the rate", "6.00"))
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _cents_out(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("internal money values are integer cents")
    return value


MoneyIn = Annotated[
    int,
    BeforeValidator(_positive_cents),
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    WithJsonSchema(_MONEY_SCHEMA),
]
"""A positive amount on a request, as integer cents once parsed."""

MoneyOrZeroIn = Annotated[
    int,
    BeforeValidator(_non_negative_cents),
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    WithJsonSchema(_MONEY_SCHEMA),
]

RateIn = Annotated[
    int,
    BeforeValidator(_rate_bps),
    PlainSerializer(format_rate, return_type=str, when_used="json"),
    WithJsonSchema(_RATE_SCHEMA),
]
"""An annual percentage rate on a request, as basis points once parsed."""

Cents = Annotated[
    int,
    BeforeValidator(_cents_out),
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    WithJsonSchema(_MONEY_SCHEMA),
]
"""Money on a response: integer cents inside, "25.00" in JSON."""

RateBps = Annotated[
    int,
    BeforeValidator(_cents_out),
    PlainSerializer(format_rate, return_type=str, when_used="json"),
    WithJsonSchema(_RATE_SCHEMA),
]
"""A rate on a response: basis points inside, "6.00" (annual percent) in JSON."""


MAX_ID = 2**53 - 1  # ids fit BIGINT and stay exact as JSON numbers (IEEE doubles) for every client
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
LoanIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A loan's id")]
CURSOR_PATTERN = r"^[0-9]{1,16}$"
CursorQuery = Annotated[
    str | None, Query(max_length=16, pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
]


def cursor_id(cursor: str | None) -> int | None:
    """The id a validated `CursorQuery` points before (None on the first page)."""
    if cursor is None:
        return None
    value = int(cursor)
    return value if 0 < value <= MAX_ID else 0


def reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    if isinstance(value, dict):
        for item in value.values():
            reject_nul(item)
    if isinstance(value, list):
        for item in value:
            reject_nul(item)
    return value


class RequestModel(BaseModel):
    """Base of every request body: unknown fields and NUL characters (which PostgreSQL cannot store)
    are refused as validation errors."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A keyset page: `next_cursor` is passed back as `cursor` for the next one (null on the last)."""

    items: list[T]
    next_cursor: str | None
