"""Identity's request and response bodies: accounts, tokens, profiles, staff and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from api.kit.clock import today as clock_today
from api.kit.money import MoneyError, format_cents, parse_cents
from api.kit.schemas import MONEY_PATTERN, Cents, RequestModel

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
PASSWORD_FIELD = Field(min_length=1, max_length=128, description="At least 10 characters and hard to guess")
EmploymentStatus = Literal["employed", "self_employed", "unemployed", "retired", "student"]
Housing = Literal["rent", "own", "mortgage", "other"]
RiskPreference = Literal["conservative", "balanced", "aggressive"]
OLDEST_AGE_YEARS = 120
MAX_ANNUAL_INCOME_CENTS = 10_000_000_000  # $100,000,000


def _income_cents(value: Any) -> int:
    bounds = f"annual_income must be between 0.00 and {format_cents(MAX_ANNUAL_INCOME_CENTS)}"
    if not isinstance(value, str):
        raise ValueError('send annual_income as a decimal string such as "65000.00"')
    if value.strip().startswith("-"):
        raise ValueError(bounds)
    try:
        cents = parse_cents(value, "annual_income", allow_zero=True)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if cents > MAX_ANNUAL_INCOME_CENTS:
        raise ValueError(bounds)
    return cents


IncomeIn = Annotated[
    int,
    BeforeValidator(_income_cents),
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["65000.00"]}),
]


class UserRegister(RequestModel):
    username: str = Field(pattern=USERNAME_PATTERN, description="3-32 letters, digits, '_', '.' or '-'")
    email: EmailStr
    password: str = PASSWORD_FIELD
    role: Literal["borrower", "investor"]


class InvestorRegister(RequestModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr
    password: str = PASSWORD_FIELD


class StaffCreate(RequestModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)
    role: Literal["admin", "analyst"]


class UserPublic(BaseModel):
    user_id: int
    username: str
    email: str
    role: str
    email_verified: bool
    investor_id: int | None = None
    created_at: datetime


class InvestorPublic(BaseModel):
    investor_id: int
    user_id: int
    username: str
    email: str
    role: str
    portfolio_value: Cents
    created_at: datetime


# Tokens ---------------------------------------------------------------------------------------------


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=20, max_length=200)


class TokenSubmit(RequestModel):
    token: str = Field(min_length=20, max_length=200)


class PasswordChange(RequestModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class PasswordForgot(RequestModel):
    email: EmailStr


class PasswordReset(RequestModel):
    token: str = Field(min_length=20, max_length=200)
    new_password: str = Field(min_length=1, max_length=128)


class Message(BaseModel):
    detail: str


# Profiles -------------------------------------------------------------------------------------------


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
    annual_income: IncomeIn | None = Field(default=None, description='Annual income, e.g. "65000.00"')
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

    def changes(self) -> dict[str, Any]:
        """The fields sent, under their column names (income in cents)."""
        sent = self.model_dump(exclude_unset=True)
        if "annual_income" in sent:
            sent["annual_income_cents"] = sent.pop("annual_income")
        return sent


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
    annual_income: Cents | None = None
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
