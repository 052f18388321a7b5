"""Registration and login."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.db.tables import Investor, User
from api.errors import Conflict, NotAuthenticated
from api.repositories import users as users_repo
from api.security import hash_password, verify_password


def register_user(session: Session, *, username: str, email: str, password: str, role: str) -> User:
    email = email.lower()
    taken = users_repo.find_taken(session, username, email)
    if taken is not None:
        field = "username" if taken.username == username else "email"
        raise Conflict(f"that {field} is already registered")
    user = users_repo.add_user(session, username, email, hash_password(password), role)
    if role == "investor":
        users_repo.add_investor(session, user)
    return user


def register_investor(session: Session, *, username: str, email: str, password: str) -> tuple[User, Investor]:
    user = register_user(session, username=username, email=email, password=password, role="investor")
    investor = users_repo.get_investor_by_user(session, user.user_id)
    assert investor is not None
    return user, investor


def authenticate(session: Session, username: str, password: str) -> User:
    user = users_repo.get_user_by_username(session, username)
    # verify_password runs the same argon2 work when the user is unknown, so timing tells nothing.
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise NotAuthenticated("incorrect username or password")
    return user
