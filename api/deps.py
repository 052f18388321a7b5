"""Dependencies, declared once. Every route declares its permission with `require(...)` (or
`public`), so its signature says who may call it; api/authz.py holds the rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.authz import Denied, Permission, check
from api.db.tables import User
from api.email.mailer import Mailer
from api.errors import Forbidden, NotAuthenticated, PeerlendError
from api.processor.base import PaymentProcessor
from api.ratelimit import RateLimiter
from api.services import auth as auth_service
from api.services.audit import ClientInfo
from api.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class EmailNotVerified(Forbidden):
    code = "email_not_verified"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed when the endpoint returns (before the response is
    sent, thanks to scope="function" below), rolled back on any error, except the few errors whose
    bookkeeping must stay (PeerlendError.keeps_writes)."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except PeerlendError as exc:
        if exc.keeps_writes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
    return ClientInfo(ip=request.client.host if request.client else None, user_agent=user_agent)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
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


@dataclass(frozen=True)
class Caller:
    user: User
    session_id: str


def get_caller(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    if not token:
        raise NotAuthenticated("missing bearer token: log in at POST /auth/token")
    user, session_id = auth_service.user_for_access_token(session, settings, token)
    return Caller(user, session_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


class _Requirement:
    """A dependency that lets a caller through only if api/authz.py allows the permission."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, caller: CallerDep) -> User:
        try:
            check(self.permission, caller.user.role, caller.user.email_verified_at is not None)
        except Denied as denied:
            raise (EmailNotVerified if denied.unverified else Forbidden)(denied.reason) from None
        return caller.user


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
