"""SQL for users, investor accounts, profiles, login throttles, sessions, tokens and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.identity.tables import (
    AuditEntry,
    AuthSession,
    EmailToken,
    Investor,
    LoginThrottle,
    RefreshToken,
    User,
    UserProfile,
)
from api.kit.clock import utcnow
from api.kit.fastsql import FastStatement

USERS = cast(Table, User.__table__)
SESSIONS = cast(Table, AuthSession.__table__)
INVESTORS = cast(Table, Investor.__table__)
THROTTLES = cast(Table, LoginThrottle.__table__)

# The one query every authenticated request makes: the session, its user and their investor account.
_CALLER_QUERY = FastStatement(
    select(
        USERS.c.user_id,
        USERS.c.username,
        USERS.c.email,
        USERS.c.role,
        USERS.c.email_verified_at,
        USERS.c.created_at,
        INVESTORS.c.investor_id,
        SESSIONS.c.revoked_at,
        SESSIONS.c.expires_at,
    )
    .select_from(
        SESSIONS.join(USERS, USERS.c.user_id == SESSIONS.c.user_id).outerjoin(
            INVESTORS, INVESTORS.c.user_id == USERS.c.user_id
        )
    )
    .where(SESSIONS.c.session_id == bindparam("session_id"))
)


def caller_row(connection: Connection, session_id: str) -> Any | None:
    return _CALLER_QUERY.first(connection, {"session_id": session_id})


def get_user(session: Session, user_id: int, *, lock: bool = False) -> User | None:
    query = select(User).where(User.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def get_user_by_username(session: Session, username: str) -> User | None:
    """Names are matched without regard to case, as they are unique without regard to case."""
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def find_taken(session: Session, username: str, email: str) -> User | None:
    return session.scalars(
        select(User).where(or_(func.lower(User.username) == username.lower(), func.lower(User.email) == email.lower()))
    ).first()


def add_user(session: Session, username: str, email: str, password_hash: str, role: str) -> User:
    now = utcnow()
    user = User(username=username, email=email, password_hash=password_hash, role=role, created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    return user


def add_investor(session: Session, user: User) -> Investor:
    investor = Investor(user_id=user.user_id, username=user.username, created_at=utcnow())
    session.add(investor)
    session.flush()
    return investor


def get_investor_by_user(session: Session, user_id: int) -> Investor | None:
    return session.scalars(select(Investor).where(Investor.user_id == user_id)).first()


def get_investors(session: Session, investor_ids: list[int]) -> list[Investor]:
    return list(session.scalars(select(Investor).where(Investor.investor_id.in_(investor_ids))))


def investor_user_ids(session: Session, investor_ids: list[int]) -> dict[int, int]:
    rows: Sequence[Any] = session.execute(
        select(INVESTORS.c.investor_id, INVESTORS.c.user_id).where(INVESTORS.c.investor_id.in_(investor_ids))
    ).all()
    return {int(i): int(u) for i, u in rows}


# Login throttles ------------------------------------------------------------------------------------


def lock_throttle(session: Session, user_id: int, client: str, now: datetime) -> LoginThrottle:
    """The (account, client) throttle row, created if new and locked until commit: parallel guesses from
    one place are judged one after another, so none slips past a block the previous one set."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(THROTTLES)
        .values(user_id=user_id, client=client, failures=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "client"])
    )
    return session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.user_id == user_id, LoginThrottle.client == client)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def get_throttle(session: Session, user_id: int, client: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, (user_id, client))


def clear_login_failures(session: Session, user_id: int, client: str | None = None) -> None:
    query = THROTTLES.delete().where(THROTTLES.c.user_id == user_id)
    if client is not None:
        query = query.where(THROTTLES.c.client == client)
    session.execute(query)


# Sessions and tokens --------------------------------------------------------------------------------


def add_email_token(session: Session, user_id: int, purpose: str, token_hash: str, expires_at: datetime) -> None:
    session.add(
        EmailToken(user_id=user_id, purpose=purpose, token_hash=token_hash, expires_at=expires_at, created_at=utcnow())
    )
    session.flush()


def find_email_token(session: Session, token_hash: str, purpose: str, *, lock: bool = False) -> EmailToken | None:
    query = select(EmailToken).where(EmailToken.token_hash == token_hash, EmailToken.purpose == purpose)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def retire_email_tokens(session: Session, user_id: int, purpose: str) -> None:
    """Older unused tokens of the same purpose stop working when a new one is sent or one is used."""
    session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def add_session(session: Session, auth_session: AuthSession) -> AuthSession:
    session.add(auth_session)
    session.flush()
    return auth_session


def get_session(session: Session, session_id: str) -> AuthSession | None:
    return session.get(AuthSession, session_id)


def revoke_sessions(session: Session, user_id: int, *, except_session: str | None = None) -> None:
    query = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if except_session is not None:
        query = query.where(AuthSession.session_id != except_session)
    session.execute(query.values(revoked_at=utcnow()))


def add_refresh_token(session: Session, session_id: str, token_hash: str, expires_at: datetime) -> None:
    session.add(RefreshToken(session_id=session_id, token_hash=token_hash, expires_at=expires_at, created_at=utcnow()))
    session.flush()


def find_refresh_token(session: Session, token_hash: str) -> RefreshToken | None:
    return session.scalars(select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()).first()


# Profiles and the audit log -------------------------------------------------------------------------


def get_profile(session: Session, user_id: int) -> UserProfile | None:
    return session.get(UserProfile, user_id)


def get_or_create_profile(session: Session, user_id: int) -> UserProfile:
    profile = session.get(UserProfile, user_id)
    if profile is None:
        profile = UserProfile(user_id=user_id, updated_at=utcnow())
        session.add(profile)
        session.flush()
    return profile


def add_audit(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    session.flush()


def audit_entries(
    session: Session, *, subject_user_id: int | None, before_id: int | None, limit: int
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if subject_user_id is not None:
        query = query.where(AuditEntry.subject_user_id == subject_user_id)
    if before_id is not None:
        query = query.where(AuditEntry.audit_id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.audit_id.desc()).limit(limit)))


def borrower_profiles(session: Session) -> list[tuple[object, int | None]]:
    """(date of birth, annual income cents) of every borrower with a profile; banded by the caller."""
    rows: Sequence[Any] = session.execute(
        select(UserProfile.date_of_birth, UserProfile.annual_income_cents)
        .join(User, User.user_id == UserProfile.user_id)
        .where(User.role == "borrower")
    ).all()
    return [(dob, income) for dob, income in rows]
