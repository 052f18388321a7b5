"""Dependencies, declared once. Every route declares its permission with `require(...)` (or `Public`), so
its signature says who may call it; api/authz.py holds the rules and api/identity/caller.py what a caller is.

Dependencies that only read app state are `async def`: FastAPI runs a plain `def` dependency on the thread
pool, and each hop there costs more than the dependency itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection

from api.authz import Denied, Permission, check_role, check_verified
from api.identity.audit import ClientInfo
from api.identity.auth import access_claims, caller_for_claims
from api.identity.caller import Caller
from api.identity.security import AccessClaims
from api.integrations.email.mailer import Mailer
from api.kit.db import Database
from api.kit.errors import Forbidden, NotAuthenticated
from api.kit.ratelimit import RateLimiter
from api.kit.routing import ReadSessionDep, SessionDep
from api.settings import Settings

__all__ = ["ReadSessionDep", "SessionDep"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class EmailNotVerified(Forbidden):
    code = "email_not_verified"


@dataclass(frozen=True, slots=True)
class Platform:
    """What the app was built with, as one dependency (each dependency FastAPI resolves costs time)."""

    settings: Settings
    database: Database
    mailer: Mailer
    limiter: RateLimiter


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def client_info(
    request: Request, user_agent: Annotated[str | None, Header(include_in_schema=False)] = None
) -> ClientInfo:
    # The address the proxy middleware resolved (X-Forwarded-For only from configured proxies).
    return ClientInfo(ip=request.client.host if request.client else None, user_agent=user_agent)


PlatformDep = Annotated[Platform, Depends(get_platform)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
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


@dataclass(frozen=True, slots=True)
class PendingCaller:
    """A bearer token whose signature, expiry and role were checked up front; its session (still open?) and
    verified email are checked on the request's own connection by the route (api/kit/routing.py)."""

    claims: AccessClaims
    permission: Permission
    database: Database
    settings: Settings

    def resolve(self, connection: Connection) -> Caller:
        caller = caller_for_claims(connection, self.claims)
        try:
            check_verified(self.permission, caller.email_verified)
        except Denied as denied:
            raise EmailNotVerified(denied.reason) from None
        return caller


class _Requirement:
    """A dependency that lets a caller through only if api/authz.py allows the permission."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> PendingCaller:
        if not token:
            raise NotAuthenticated("missing bearer token: log in at POST /auth/token")
        settings: Settings = request.app.state.settings
        claims = access_claims(settings, token)
        try:
            check_role(self.permission, claims.role)
        except Denied as denied:
            raise Forbidden(denied.reason) from None
        return PendingCaller(claims, self.permission, request.app.state.database, settings)


_requirements: dict[Permission, _Requirement] = {}


def require(permission: Permission) -> _Requirement:
    if permission not in _requirements:
        _requirements[permission] = _Requirement(permission)
    return _requirements[permission]


async def public() -> None:
    """Declares a route open to anyone (registration, login, token refresh)."""


public.permission = Permission.PUBLIC  # type: ignore[attr-defined]
Public = Depends(public)


def rate_limited(name: str) -> Callable[..., None]:
    """A dependency that spends one unit of the named limit for the client's address."""

    # Sync: a Redis-backed limiter does network I/O, which must not block the event loop.
    def hit(request: Request, limiter: Annotated[RateLimiter, Depends(get_limiter)]) -> None:
        limiter.hit(name, request.client.host if request.client else "unknown")

    hit.__name__ = f"rate_limit_{name}"
    return hit
