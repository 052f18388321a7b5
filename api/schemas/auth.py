from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from api.schemas.common import RequestModel


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
