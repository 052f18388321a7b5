"""Login sessions, access and refresh tokens, lockout, email verification and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api.identity import repository as repo
from api.identity.audit import ClientInfo, record
from api.identity.caller import Caller
from api.identity.security import (
    AccessClaims,
    create_access_token,
    decode_access_token,
    hash_password,
    new_opaque_token,
    new_session_id,
    password_problem,
    token_digest,
    verify_password,
)
from api.identity.tables import AuthSession, LoginThrottle, User
from api.integrations.email import messages
from api.integrations.email.mailer import OutgoingEmail
from api.kit.clock import utcnow
from api.kit.errors import Conflict, InvalidAmount, InvalidInput, NotAuthenticated, PeerlendError
from api.settings import Settings

VERIFY, RESET = "verify_email", "reset_password"
log = structlog.get_logger("peerlend.auth")


class LoginFailed(NotAuthenticated):
    keeps_writes = True  # the failed-attempt count must survive the error response


class LoginThrottled(PeerlendError):
    """Too many failures for this account from this client address; others are not affected."""

    status_code = 429
    code = "login_throttled"
    keeps_writes = True


class RefreshReused(NotAuthenticated):
    keeps_writes = True  # the session revocation must survive the error response


class WeakPassword(InvalidAmount):
    code = "weak_password"


class InvalidForm(InvalidInput):
    """A form field the JSON validators would refuse too (NUL characters)."""


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
    """Failures are counted per (account, client address) with delays that double past a free allowance,
    so someone hammering an account from one place slows only themselves, never the owner elsewhere.
    Guessing across many accounts from one place meets the per-address rate limit instead."""
    user = repo.get_user_by_username(session, username)
    now = utcnow()
    where = _client_key(client)
    throttle = repo.lock_throttle(session, user.user_id, where, now) if user is not None else None
    if throttle is not None and throttle.blocked_until is not None and throttle.blocked_until > now:
        wait = max(1, int((throttle.blocked_until - now).total_seconds()) + 1)
        log.warning("login_throttled", user_id=throttle.user_id, ip=client.ip)
        raise LoginThrottled(f"too many failed logins from here; try again in {wait} seconds", retry_after=wait)
    # verify_password does the same argon2 work for an unknown user, so timing tells nothing.
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or throttle is None:
        if user is not None and throttle is not None:
            _count_failure(session, settings, user, throttle, now, client)
        # the username is not logged: people type passwords into it
        log.warning("login_failed", user_id=user.user_id if user else None, ip=client.ip)
        raise LoginFailed("incorrect username or password")
    repo.clear_login_failures(session, user.user_id, where)
    log.info("login_succeeded", user_id=user.user_id, ip=client.ip)
    auth_session = repo.add_session(
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


def _client_key(client: ClientInfo) -> str:
    return (client.ip or "unknown")[:64]


def login_delay_seconds(settings: Settings, failures: int) -> int:
    """No delay for the first `login_max_failures` failures, then 1 s, 2 s, 4 s, ... up to the lockout cap."""
    over = failures - settings.login_max_failures
    if over < 0:
        return 0
    return int(min(2 ** min(over, 30), settings.lockout_minutes * 60))


def _count_failure(
    session: Session, settings: Settings, user: User, throttle: LoginThrottle, now: datetime, client: ClientInfo
) -> None:
    throttle.failures += 1
    throttle.last_failure_at = now
    delay = login_delay_seconds(settings, throttle.failures)
    if delay:
        throttle.blocked_until = now + timedelta(seconds=delay)
        if throttle.failures == settings.login_max_failures:
            record(session, actor_user_id=None, subject_user_id=user.user_id, action="login_throttled", client=client)
    session.flush()


def _issue(session: Session, settings: Settings, user: User, auth_session: AuthSession) -> IssuedTokens:
    refresh = new_opaque_token()
    now = utcnow()
    refresh_expires = min(auth_session.expires_at, now + timedelta(days=settings.refresh_token_days))
    repo.add_refresh_token(session, auth_session.session_id, token_digest(refresh), refresh_expires)
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
    stored = repo.find_refresh_token(session, token_digest(refresh_token))
    if stored is None:
        raise NotAuthenticated("unknown refresh token: log in again")
    auth_session = repo.get_session(session, stored.session_id)
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
    user = repo.get_user(session, auth_session.user_id)
    if user is None:
        raise NotAuthenticated("this session has ended: log in again")
    return _issue(session, settings, user, auth_session)


def access_claims(settings: Settings, token: str) -> AccessClaims:
    claims = decode_access_token(token, settings.jwt_secret.get_secret_value())
    if claims is None:
        raise NotAuthenticated("invalid or expired token: log in again at POST /auth/token")
    return claims


def caller_for_claims(connection: Connection, claims: AccessClaims) -> Caller:
    """The caller behind a valid token: its session must still be open (checked on every request, so
    logout and password changes take effect at once)."""
    row = repo.caller_row(connection, claims.session_id)
    if row is None or row.user_id != claims.user_id or row.revoked_at is not None or _aware(row.expires_at) <= utcnow():
        raise NotAuthenticated("this session has ended: log in again at POST /auth/token")
    return Caller(
        user_id=int(row.user_id),
        username=row.username,
        email=row.email,
        role=row.role,
        email_verified=row.email_verified_at is not None,
        session_id=claims.session_id,
        investor_id=int(row.investor_id) if row.investor_id is not None else None,
        created_at=_aware(row.created_at),
    )


def _aware(moment: datetime) -> datetime:
    # Core rows from SQLite come back naive; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _user_of(session: Session, caller: Caller) -> User:
    user = repo.get_user(session, caller.user_id)
    if user is None:
        raise NotAuthenticated("this session has ended: log in again at POST /auth/token")
    return user


def logout(session: Session, session_id: str) -> None:
    auth_session = repo.get_session(session, session_id)
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        session.flush()


def _email_token(session: Session, user: User, purpose: str, lifetime: timedelta) -> str:
    repo.retire_email_tokens(session, user.user_id, purpose)
    token = new_opaque_token()
    repo.add_email_token(session, user.user_id, purpose, token_digest(token), utcnow() + lifetime)
    return token


def verification_email(session: Session, settings: Settings, user: User) -> OutgoingEmail:
    token = _email_token(session, user, VERIFY, timedelta(hours=settings.verification_token_hours))
    link = f"{settings.public_base_url.rstrip('/')}/auth/verify-email?token={token}"
    return messages.verification(user.email, user.username, link, settings.verification_token_hours)


def resend_verification(session: Session, settings: Settings, caller: Caller) -> OutgoingEmail:
    user = _user_of(session, caller)
    if user.email_verified_at is not None:
        raise Conflict("your email address is already verified")
    return verification_email(session, settings, user)


def _use_email_token(session: Session, token: str, purpose: str) -> User:
    stored = repo.find_email_token(session, token_digest(token), purpose, lock=True)
    if stored is None or stored.used_at is not None or stored.expires_at <= utcnow():
        kind = "verification" if purpose == VERIFY else "password reset"
        raise InvalidToken(f"this {kind} link is invalid, used or expired; ask for a new one")
    stored.used_at = utcnow()
    user = repo.get_user(session, stored.user_id)
    if user is None:  # tokens are only issued for existing users, and users are never deleted
        raise InvalidToken("this link belongs to no account")
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
    session: Session, settings: Settings, caller: Caller, current: str, new: str, client: ClientInfo
) -> OutgoingEmail:
    user = _user_of(session, caller)
    current_session = caller.session_id
    now = utcnow()
    throttle = repo.lock_throttle(session, user.user_id, _client_key(client), now)
    if throttle.blocked_until is not None and throttle.blocked_until > now:
        wait = max(1, int((throttle.blocked_until - now).total_seconds()) + 1)
        raise LoginThrottled("too many wrong passwords; try again later", retry_after=wait)
    if not verify_password(current, user.password_hash):
        # guessing the current password with a stolen token counts towards the same throttle
        _count_failure(session, settings, user, throttle, now, client)
        raise LoginFailed("current password is incorrect")
    check_password_strength(settings, new, user.username, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    repo.revoke_sessions(session, user.user_id, except_session=current_session)
    record(session, actor_user_id=user.user_id, subject_user_id=user.user_id, action="password_changed", client=client)
    session.flush()
    return messages.password_changed(user.email, user.username)


def request_password_reset(session: Session, settings: Settings, email: str) -> OutgoingEmail | None:
    """The caller answers 202 either way, so nobody learns which addresses are registered."""
    user = repo.get_user_by_email(session, email)
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
    repo.clear_login_failures(session, user.user_id)
    repo.revoke_sessions(session, user.user_id)
    record(session, actor_user_id=user.user_id, subject_user_id=user.user_id, action="password_reset", client=client)
    session.flush()
    return user
