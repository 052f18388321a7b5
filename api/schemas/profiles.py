from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, field_validator

from api.clock import today as clock_today
from api.domain.money import MoneyError, to_decimal
from api.schemas.common import MONEY_PATTERN, MoneyOut, RequestModel

EmploymentStatus = Literal["employed", "self_employed", "unemployed", "retired", "student"]
Housing = Literal["rent", "own", "mortgage", "other"]
RiskPreference = Literal["conservative", "balanced", "aggressive"]
OLDEST_AGE_YEARS = 120


def _income(value: object) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('send annual_income as a decimal string such as "65000.00"')
    try:
        number = to_decimal(value, "annual_income")
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if number != number.quantize(Decimal("0.01")):
        raise ValueError("annual_income has more than two decimal places")
    if number < 0 or number > Decimal("100000000"):
        raise ValueError("annual_income must be between 0.00 and 100000000.00")
    return number


IncomeIn = Annotated[
    Decimal,
    BeforeValidator(_income),
    Field(json_schema_extra={"type": "string", "pattern": MONEY_PATTERN, "examples": ["65000.00"]}),
]


class ProfileUpdate(RequestModel):
    """Only the fields sent are changed; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    legal_name: str | None = Field(default=None, min_length=2, max_length=200)
    date_of_birth: date | None = None
    address_line1: str | None = Field(default=None, min_length=3, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 -]{3,10}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. US")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164, e.g. +14155550123")
    annual_income: IncomeIn | None = None
    employment_status: EmploymentStatus | None = None
    employer: str | None = Field(default=None, max_length=200)
    employment_length_years: int | None = Field(default=None, ge=0, le=60)
    housing: Housing | None = None
    risk_preference: RiskPreference | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        if value is None:
            return value
        today = clock_today()
        if value >= today:
            raise ValueError("date_of_birth must be in the past")
        if today.year - value.year > OLDEST_AGE_YEARS:
            raise ValueError(f"date_of_birth must be within the last {OLDEST_AGE_YEARS} years")
        return value


class ProfilePublic(BaseModel):
    legal_name: str | None = None
    date_of_birth: date | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    annual_income: MoneyOut | None = None
    employment_status: str | None = None
    employer: str | None = None
    employment_length_years: int | None = None
    housing: str | None = None
    risk_preference: str | None = None
    complete_for_borrowing: bool = False
    missing_for_borrowing: list[str] = Field(default_factory=list)


class MePublic(BaseModel):
    user_id: int
    username: str
    email: str
    role: str
    email_verified: bool
    investor_id: int | None = None
    created_at: datetime
    profile: ProfilePublic


class AuditEntryPublic(BaseModel):
    audit_id: int
    actor_user_id: int | None
    subject_user_id: int | None
    action: str
    changes: dict[str, dict[str, str | None]]
    ip: str | None
    user_agent: str | None
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


class StaffCreate(RequestModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,32}$")
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)
    role: Literal["admin", "analyst"]
