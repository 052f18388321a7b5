from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, status
from fastapi.security import OAuth2PasswordRequestForm

from api.authz import Permission
from api.db.tables import User
from api.deps import (
    CallerDep,
    ClientDep,
    MailerDep,
    Public,
    SessionDep,
    SettingsDep,
    rate_limited,
    require,
)
from api.routers.mail import send_later
from api.schemas.auth import (
    Message,
    PasswordChange,
    PasswordForgot,
    PasswordReset,
    RefreshRequest,
    TokenPair,
    TokenSubmit,
)
from api.services import auth as auth_service

router = APIRouter(tags=["auth"], prefix="/auth")


def _pair(tokens: auth_service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        expires_in=tokens.access_expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
    )


@router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[Public, Depends(rate_limited("login"))],
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Throttled or locked"}},
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep, client: ClientDep
) -> TokenPair:
    """OAuth2 password flow (form fields `username`, `password`): a short-lived access JWT and a
    single-use refresh token. Repeated failures lock the account for a while."""
    return _pair(auth_service.login(session, settings, form.username, form.password, client))


@router.post("/refresh", response_model=TokenPair, dependencies=[Public, Depends(rate_limited("token"))])
def refresh(payload: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Trade a refresh token for a new pair. Each refresh token works once; replaying one signs the
    session out."""
    return _pair(auth_service.refresh(session, settings, payload.refresh_token))


@router.post("/logout", response_model=Message, dependencies=[Depends(require(Permission.SESSION_OWN))])
def logout(caller: CallerDep, session: SessionDep) -> Message:
    """End this session: its access and refresh tokens stop working at once."""
    auth_service.logout(session, caller.session_id)
    return Message(detail="signed out")


def _verify(token: str, session: SessionDep, client: ClientDep) -> Message:
    user = auth_service.verify_email(session, token, client)
    return Message(detail=f"email address {user.email} verified")


@router.post("/verify-email", response_model=Message, dependencies=[Public, Depends(rate_limited("token"))])
def verify_email(payload: TokenSubmit, session: SessionDep, client: ClientDep) -> Message:
    """Confirm an email address with the token from the verification email."""
    return _verify(payload.token, session, client)


@router.get("/verify-email", response_model=Message, dependencies=[Public, Depends(rate_limited("token"))])
def verify_email_link(
    token: Annotated[str, Query(min_length=20, max_length=200)], session: SessionDep, client: ClientDep
) -> Message:
    """The link in the verification email."""
    return _verify(token, session, client)


@router.post(
    "/resend-verification",
    response_model=Message,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limited("resend"))],
)
def resend_verification(
    user: Annotated[User, Depends(require(Permission.PROFILE_OWN))],
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> Message:
    """Send a new verification link (the old ones stop working). Rate-limited."""
    send_later(background, mailer, auth_service.resend_verification(session, settings, user))
    return Message(detail=f"a new verification link was sent to {user.email}")


@router.post("/password/change", response_model=Message, dependencies=[Depends(rate_limited("login"))])
def change_password(
    payload: PasswordChange,
    caller: CallerDep,
    _: Annotated[User, Depends(require(Permission.PROFILE_OWN))],
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> Message:
    """Change the password; every other session is signed out."""
    email = auth_service.change_password(
        session, settings, caller.user, caller.session_id, payload.current_password, payload.new_password, client
    )
    send_later(background, mailer, email)
    return Message(detail="password changed; your other sessions were signed out")


@router.post(
    "/password/forgot",
    response_model=Message,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Public, Depends(rate_limited("resend"))],
)
def forgot_password(
    payload: PasswordForgot, session: SessionDep, settings: SettingsDep, mailer: MailerDep, background: BackgroundTasks
) -> Message:
    """Email a single-use reset link if the address is registered. The answer is the same either way."""
    email = auth_service.request_password_reset(session, settings, str(payload.email))
    if email is not None:
        send_later(background, mailer, email)
    return Message(detail="if that address is registered, a reset link is on its way")


@router.post("/password/reset", response_model=Message, dependencies=[Public, Depends(rate_limited("token"))])
def reset_password(payload: PasswordReset, session: SessionDep, settings: SettingsDep, client: ClientDep) -> Message:
    """Set a new password with the emailed token; every session is signed out."""
    auth_service.reset_password(session, settings, payload.token, payload.new_password, client)
    return Message(detail="password reset; log in with the new password")


@router.get("/password/reset", response_model=Message, dependencies=[Public])
def reset_password_link(token: Annotated[str, Query(min_length=20, max_length=200)]) -> Message:
    """The link in the reset email explains how to finish."""
    return Message(detail="POST this token with your new_password to /auth/password/reset")
