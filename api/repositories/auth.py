"""SQL for email tokens, login sessions and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import AuthSession, EmailToken, RefreshToken


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
