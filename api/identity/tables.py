"""Identity: users, investor accounts, profiles, login sessions, emailed tokens and the audit log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("role IN ('borrower', 'investor', 'admin', 'analyst')", name="ck_users_role"),
        # `CRASH5` and `crash5` are one name: uniqueness ignores case, as people read names.
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )


class Investor(Base):
    """An investor account. Its cash and notes live in the ledger (api/ledger), never here."""

    __tablename__ = "investors"

    investor_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, unique=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()


class LoginThrottle(Base):
    """Failed logins per (account, client address). Counting per pair, not per account, means an
    attacker hammering one account from one place slows only themselves: the owner logging in from
    anywhere else is not locked out."""

    __tablename__ = "login_throttles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class UserProfile(Base):
    """What a lender must know about a person. Personal data: never logged, never copied to the
    warehouse except as bands (age, income)."""

    __tablename__ = "user_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    legal_name: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(20))
    annual_income_cents: Mapped[int | None] = mapped_column(BigInteger)
    employment_status: Mapped[str | None] = mapped_column(String(20))
    employer: Mapped[str | None] = mapped_column(String(200))
    employment_length_years: Mapped[int | None] = mapped_column(Integer)
    housing: Mapped[str | None] = mapped_column(String(16))
    risk_preference: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("annual_income_cents IS NULL OR annual_income_cents >= 0", name="ck_profiles_income"),
    )


class EmailToken(Base):
    """A single-use, expiring token sent by email (verification, password reset). Only its
    SHA-256 is stored."""

    __tablename__ = "email_tokens"

    token_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="ck_email_tokens_purpose"),)


class AuthSession(Base):
    """A login: the refresh tokens it issues rotate, and revoking it (logout, password change,
    refresh-token reuse) invalidates its access tokens at once."""

    __tablename__ = "auth_sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = created_at_column()


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    token_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.session_id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = created_at_column()


class AuditEntry(Base):
    """Who changed what about whom, when and from where. Append-only: the migration installs
    triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"

    audit_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"), index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    changes: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
