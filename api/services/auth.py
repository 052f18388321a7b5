"""Login sessions, access and refresh tokens, lockout, email verification and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import AuthSession, User
from api.email import messages
from api.email.mailer import OutgoingEmail
from api.errors import Conflict, InvalidAmount, NotAuthenticated, PeerlendError
from api.repositories import auth as auth_repo
from api.repositories import users as users_repo
from api.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    new_opaque_token,
    new_session_id,
    password_problem,
    token_digest,
    verify_password,
)
from api.services.audit import ClientInfo, record
from api.settings import Settings

VERIFY, RESET = "verify_email", "reset_password"
log = structlog.get_logger("peerlend.auth")


class LoginFailed(NotAuthenticated):
    keeps_writes = True  # the failed-attempt count must survive the error response


class AccountLocked(PeerlendError):
    status_code = 429
    code = "account_locked"
    keeps_writes = True

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RefreshReused(NotAuthenticated):
    keeps_writes = True  # the session revocation must survive the error response


class WeakPassword(InvalidAmount):
    code = "weak_password"


class InvalidToken(PeerlendError):
    status_code = 400
    code = "invalid_token"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_in: int
    refresh_expires_in: int


def check_password_strength(settings: Settings, password: str, username: str, email: str) -> None:
    problem = password_problem(
        password,
        min_length=settings.min_password_length,
        min_score=settings.min_password_score,
        user_inputs=[username, email, email.split("@")[0], "peerlend"],
    )
    if problem:
        raise WeakPassword(problem)


def login(session: Session, settings: Settings, username: str, password: str, client: ClientInfo) -> IssuedTokens:
    # The row lock makes concurrent failures count one by one (no lost updates of the counter).
    user = users_repo.get_user_by_username(session, username, lock=True)
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        log.warning("login_refused_locked", user_id=user.user_id, ip=client.ip)
        raise AccountLocked(f"too many failed logins; try again in {max(1, wait // 60)} minute(s)", wait)
    # verify_password does the same argon2 work for an unknown user, so timing tells nothing.
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None:
        if user is not None:
            _count_failure(session, settings, user, now, client)
        # the username is not logged: people type passwords into it
        log.warning("login_failed", user_id=user.user_id if user else None, ip=client.ip)
        raise LoginFailed("incorrect username or password")
    user.failed_login_count = 0
    user.locked_until = None
    log.info("login_succeeded", user_id=user.user_id, ip=client.ip)
    auth_session = auth_repo.add_session(
        session,
        AuthSession(
            session_id=new_session_id(),
            user_id=user.user_id,
            expires_at=now + timedelta(days=settings.refresh_token_days),
            ip=client.ip,
            created_at=now,
        ),
    )
    return _issue(session, settings, user, auth_session)


def _count_failure(session: Session, settings: Settings, user: User, now: datetime, client: ClientInfo) -> None:
    user.failed_login_count += 1
    if user.failed_login_count >= settings.login_max_failures:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_login_count = 0
        record(session, actor_user_id=None, subject_user_id=user.user_id, action="account_locked", client=client)
    session.flush()


def _issue(session: Session, settings: Settings, user: User, auth_session: AuthSession) -> IssuedTokens:
    refresh = new_opaque_token()
    now = utcnow()
    refresh_expires = min(auth_session.expires_at, now + timedelta(days=settings.refresh_token_days))
    auth_repo.add_refresh_token(session, auth_session.session_id, token_digest(refresh), refresh_expires)
    access = create_access_token(
        user.user_id,
        user.role,
        auth_session.session_id,
        settings.jwt_secret.get_secret_value(),
        settings.access_token_minutes,
    )
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh,
        access_expires_in=settings.access_token_minutes * 60,
        refresh_expires_in=int((refresh_expires - now).total_seconds()),
    )


def refresh(session: Session, settings: Settings, refresh_token: str) -> IssuedTokens:
    """Rotate: a refresh token works once. Presenting a used one means it was stolen or replayed,
    so the whole session is revoked."""
    stored = auth_repo.find_refresh_token(session, token_digest(refresh_token))
    if stored is None:
        raise NotAuthenticated("unknown refresh token: log in again")
    auth_session = auth_repo.get_session(session, stored.session_id)
    now = utcnow()
    if auth_session is None or auth_session.revoked_at is not None or auth_session.expires_at <= now:
        raise NotAuthenticated("this session has ended: log in again")
    if stored.used_at is not None:
        auth_session.revoked_at = now
        session.flush()
        raise RefreshReused("refresh token already used; the session was signed out for safety: log in again")
    if stored.expires_at <= now:
        raise NotAuthenticated("refresh token expired: log in again")
    stored.used_at = now
    user = users_repo.get_user(session, auth_session.user_id)
    if user is None:
        raise NotAuthenticated("this session has ended: log in again")
    return _issue(session, settings, user, auth_session)


def user_for_access_token(session: Session, settings: Settings, token: str) -> tuple[User, str]:
    claims = decode_access_token(token, settings.jwt_secret.get_secret_value())
    if claims is None:
        raise NotAuthenticated("invalid or expired token: log in again at POST /auth/token")
    auth_session = auth_repo.get_session(session, claims.session_id)
    if (
        auth_session is None
        or auth_session.user_id != claims.user_id
        or auth_session.revoked_at is not None
        or auth_session.expires_at <= utcnow()
    ):
        raise NotAuthenticated("this session has ended: log in again at POST /auth/token")
    user = users_repo.get_user(session, claims.user_id)
    if user is None:
        raise NotAuthenticated("invalid or expired token: log in again at POST /auth/token")
    return user, claims.session_id


def logout(session: Session, session_id: str) -> None:
    auth_session = auth_repo.get_session(session, session_id)
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        session.flush()


def _email_token(session: Session, user: User, purpose: str, lifetime: timedelta) -> str:
    auth_repo.retire_email_tokens(session, user.user_id, purpose)
    token = new_opaque_token()
    auth_repo.add_email_token(session, user.user_id, purpose, token_digest(token), utcnow() + lifetime)
    return token


def verification_email(session: Session, settings: Settings, user: User) -> OutgoingEmail:
    token = _email_token(session, user, VERIFY, timedelta(hours=settings.verification_token_hours))
    link = f"{settings.public_base_url.rstrip('/')}/auth/verify-email?token={token}"
    return messages.verification(user.email, user.username, link, settings.verification_token_hours)


def resend_verification(session: Session, settings: Settings, user: User) -> OutgoingEmail:
    if user.email_verified_at is not None:
        raise Conflict("your email address is already verified")
    return verification_email(session, settings, user)


def _use_email_token(session: Session, token: str, purpose: str) -> User:
    stored = auth_repo.find_email_token(session, token_digest(token), purpose, lock=True)
    if stored is None or stored.used_at is not None or stored.expires_at <= utcnow():
        kind = "verification" if purpose == VERIFY else "password reset"
        raise InvalidToken(f"this {kind} link is invalid, used or expired; ask for a new one")
    stored.used_at = utcnow()
    user = users_repo.get_user(session, stored.user_id)
    assert user is not None
    return user


def verify_email(session: Session, token: str, client: ClientInfo) -> User:
    user = _use_email_token(session, token, VERIFY)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(
            session, actor_user_id=user.user_id, subject_user_id=user.user_id, action="email_verified", client=client
        )
    session.flush()
    return user


def change_password(
    session: Session, settings: Settings, user: User, current_session: str, current: str, new: str, client: ClientInfo
) -> OutgoingEmail:
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise AccountLocked("too many wrong passwords; try again later", wait)
    if not verify_password(current, user.password_hash):
        # guessing the current password with a stolen token counts towards the same lockout
        _count_failure(session, settings, user, utcnow(), client)
        raise LoginFailed("current password is incorrect")
    check_password_strength(settings, new, user.username, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    auth_repo.revoke_sessions(session, user.user_id, except_session=current_session)
    record(session, actor_user_id=user.user_id, subject_user_id=user.user_id, action="password_changed", client=client)
    session.flush()
    return messages.password_changed(user.email, user.username)


def request_password_reset(session: Session, settings: Settings, email: str) -> OutgoingEmail | None:
    """The caller answers 202 either way, so nobody learns which addresses are registered."""
    user = users_repo.get_user_by_email(session, email.lower())
    if user is None:
        return None
    token = _email_token(session, user, RESET, timedelta(minutes=settings.reset_token_minutes))
    link = f"{settings.public_base_url.rstrip('/')}/auth/password/reset?token={token}"
    return messages.password_reset(user.email, user.username, link, settings.reset_token_minutes)


def reset_password(session: Session, settings: Settings, token: str, new: str, client: ClientInfo) -> User:
    user = _use_email_token(session, token, RESET)
    check_password_strength(settings, new, user.username, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.failed_login_count = 0
    user.locked_until = None
    auth_repo.revoke_sessions(session, user.user_id)
    record(session, actor_user_id=user.user_id, subject_user_id=user.user_id, action="password_reset", client=client)
    session.flush()
    return user
