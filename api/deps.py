"""Dependencies, declared once: a route's signature says who may call it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.db.tables import User
from api.errors import Forbidden, NotAuthenticated
from api.processor.base import PaymentProcessor
from api.repositories import users as users_repo
from api.security import decode_access_token
from api.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed when the endpoint returns (before the response is
    sent, thanks to scope="function" below), rolled back on any error."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_processor(request: Request) -> PaymentProcessor:
    processor: PaymentProcessor = request.app.state.processor
    return processor


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ProcessorDep = Annotated[PaymentProcessor, Depends(get_processor)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required on money-moving requests: a unique string; retries with the same key "
        "and body replay the first response instead of moving money again.",
    ),
]


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise NotAuthenticated("missing bearer token: log in at POST /auth/token")
    user_id = decode_access_token(token, settings.jwt_secret.get_secret_value())
    user = users_repo.get_user(session, user_id) if user_id is not None else None
    if user is None:
        raise NotAuthenticated("invalid or expired token: log in again at POST /auth/token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _role(*roles: str) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"this action is for {' or '.join(roles)} accounts; you are logged in as a {user.role}")
        return user

    return check


CurrentBorrower = Annotated[User, Depends(_role("borrower"))]
CurrentInvestor = Annotated[User, Depends(_role("investor"))]
AdminUser = Annotated[User, Depends(_role("admin"))]
