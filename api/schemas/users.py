from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from api.schemas.common import MoneyOut, RequestModel

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"


class UserRegister(RequestModel):
    username: str = Field(pattern=USERNAME_PATTERN, description="3-32 letters, digits, '_', '.' or '-'")
    email: EmailStr
    password: str = Field(min_length=1, max_length=128, description="At least 10 characters and hard to guess")
    role: Literal["borrower", "investor"]


class InvestorRegister(RequestModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr
    password: str = Field(min_length=1, max_length=128, description="At least 10 characters and hard to guess")


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
    portfolio_value: MoneyOut
    created_at: datetime
