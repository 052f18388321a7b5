"""SQL for users and investor accounts."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import Investor, User


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.username == username)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def find_taken(session: Session, username: str, email: str) -> User | None:
    return session.scalars(select(User).where(or_(User.username == username, User.email == email))).first()


def add_user(session: Session, username: str, email: str, password_hash: str, role: str) -> User:
    user = User(username=username, email=email, password_hash=password_hash, role=role, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def add_investor(session: Session, user: User) -> Investor:
    investor = Investor(user_id=user.user_id, username=user.username, created_at=utcnow())
    session.add(investor)
    session.flush()
    return investor


def get_investor_by_user(session: Session, user_id: int, *, lock: bool = False) -> Investor | None:
    query = select(Investor).where(Investor.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def get_investors(session: Session, investor_ids: list[int]) -> list[Investor]:
    return list(session.scalars(select(Investor).where(Investor.investor_id.in_(investor_ids))))
