"""Dependencies, declared once. Every route declares its permission with `require(...)` (or `Public`),
so its signature says who may call it; api/authz.py holds the rules and api/identity/caller.py what a
caller is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer

from api.authz import Denied, Permission, check
from api.identity.audit import ClientInfo
from api.identity.auth import caller_for_access_token
from api.identity.caller import Caller
from api.integrations.email.mailer import Mailer
from api.integrations.processor.base import PaymentProcessor
from api.kit.db import Database
from api.kit.errors import Forbidden, NotAuthenticated
from api.kit.ratelimit import RateLimiter
from api.kit.routing import ReadSessionDep, SessionDep
from api.settings import Settings

__all__ = ["ReadSessionDep", "SessionDep"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class EmailNotVerified(Forbidden):
    code = "email_not_verified"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_processor(request: Request) -> PaymentProcessor:
    processor: PaymentProcessor = request.app.state.processor
    return processor


def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def client_info(
    request: Request, user_agent: Annotated[str | None, Header(include_in_schema=False)] = None
) -> ClientInfo:
    # The address the proxy middleware resolved (X-Forwarded-For only from configured proxies).
    return ClientInfo(ip=request.client.host if request.client else None, user_agent=user_agent)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ProcessorDep = Annotated[PaymentProcessor, Depends(get_processor)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
ClientDep = Annotated[ClientInfo, Depends(client_info)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required on money-moving requests: a unique string; retries with the same key "
        "and body replay the first response instead of moving money again.",
    ),
]


def get_caller(
    database: DatabaseDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    if not token:
        raise NotAuthenticated("missing bearer token: log in at POST /auth/token")
    # Its own single read, outside the request's transaction: see api/kit/routing.py.
    with database.autocommit() as connection:
        return caller_for_access_token(connection, settings, token)


CallerDep = Annotated[Caller, Depends(get_caller)]


class _Requirement:
    """A dependency that lets a caller through only if api/authz.py allows the permission."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, caller: CallerDep) -> Caller:
        try:
            check(self.permission, caller.role, caller.email_verified)
        except Denied as denied:
            raise (EmailNotVerified if denied.unverified else Forbidden)(denied.reason) from None
        return caller


_requirements: dict[Permission, _Requirement] = {}


def require(permission: Permission) -> _Requirement:
    if permission not in _requirements:
        _requirements[permission] = _Requirement(permission)
    return _requirements[permission]


def public() -> None:
    """Declares a route open to anyone (registration, login, token refresh)."""


public.permission = Permission.PUBLIC  # type: ignore[attr-defined]
Public = Depends(public)


def rate_limited(name: str) -> Callable[..., None]:
    """A dependency that spends one unit of the named limit for the client's address."""

    def hit(request: Request, limiter: Annotated[RateLimiter, Depends(get_limiter)]) -> None:
        limiter.hit(name, request.client.host if request.client else "unknown")

    hit.__name__ = f"rate_limit_{name}"
    return hit
