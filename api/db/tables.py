"""The transactional schema. Alembic migrations are the source of truth for the database; these
mappings must match them (a test compares the two).

Money is stored as integer cents (`*_cents`, BIGINT) and annual interest rates as integer basis
points (`interest_rate_bps`, 600 = 6.00 %). Nothing here is ever a float.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; BIGINT keys elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC and always timezone-aware in Python, also on SQLite, which stores
    them without an offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


def _created_at() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), server_default=func.current_timestamp(), nullable=False)


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failed_login_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (CheckConstraint("role IN ('borrower', 'investor', 'admin', 'analyst')", name="ck_users_role"),)


class Investor(Base):
    """An investor account. `portfolio_value` of the seed is derived from the ledger, never stored."""

    __tablename__ = "investors"

    investor_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, unique=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created_at()


class Loan(Base):
    __tablename__ = "loans"

    loan_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_rate_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    probability_of_default_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    score_model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    score_reasons: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # Running total under the loan's row lock; equals the ledger's commitments to this loan
    # (a test checks it), kept so the funding check is a single locked-row read.
    funded_amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    monthly_payment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    funded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disbursed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_due_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_loans_amount_positive"),
        CheckConstraint(
            "funded_amount_cents >= 0 AND funded_amount_cents <= amount_cents", name="ck_loans_funded_range"
        ),
        CheckConstraint("interest_rate_bps > 0 AND interest_rate_bps <= 3600", name="ck_loans_rate_range"),
        CheckConstraint("term_months > 0", name="ck_loans_term_positive"),
        CheckConstraint(
            "status IN ('listed', 'funded', 'active', 'repaid', 'expired', 'cancelled', 'late', 'charged_off')",
            name="ck_loans_status",
        ),
        Index("ix_loans_interest_rate_bps", "interest_rate_bps"),
        Index("ix_loans_status", "status"),
    )


class Investment(Base):
    """A note: an investor's fractional share of one loan."""

    __tablename__ = "investments"

    investment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_investments_amount_positive"),)


class Installment(Base):
    """One row of a loan's amortization schedule, created when the loan is disbursed."""

    __tablename__ = "installments"

    installment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    payment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("loan_id", "number", name="uq_installments_loan_number"),)


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    payer_user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fees_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    processor_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_payments_amount_positive"),
        CheckConstraint("principal_cents + interest_cents + fees_cents = amount_cents", name="ck_payments_parts_sum"),
    )


class PaymentDistribution(Base):
    """The part of one payment credited to one note."""

    __tablename__ = "payment_distributions"

    distribution_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.payment_id"), nullable=False, index=True)
    investment_id: Mapped[int] = mapped_column(ForeignKey("investments.investment_id"), nullable=False)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CashTransfer(Base):
    """Money moved between a user's bank and the platform through the payment processor."""

    __tablename__ = "cash_transfers"

    transfer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    processor_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_cash_transfers_amount_positive"),
        CheckConstraint("direction IN ('deposit', 'withdrawal', 'disbursement')", name="ck_cash_transfers_direction"),
    )


class LedgerAccount(Base):
    """An account of the double-entry ledger. `code` is unique, e.g. `investor_cash:7`."""

    __tablename__ = "ledger_accounts"

    account_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    account_type: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    investor_id: Mapped[int | None] = mapped_column(ForeignKey("investors.investor_id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    created_at: Mapped[datetime] = _created_at()


class LedgerTransaction(Base):
    """A balanced set of postings. Append-only: corrections are new, reversing transactions."""

    __tablename__ = "ledger_transactions"

    transaction_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.payment_id"))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("cash_transfers.transfer_id"))
    investment_id: Mapped[int | None] = mapped_column(ForeignKey("investments.investment_id"))
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class LedgerEntry(Base):
    """One posting: positive amounts are debits, negative are credits; a transaction's sum is zero."""

    __tablename__ = "ledger_entries"

    entry_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.transaction_id"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.account_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (CheckConstraint("amount_cents <> 0", name="ck_ledger_entries_nonzero"),)


class Notification(Base):
    __tablename__ = "notifications"

    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotencyRecord(Base):
    """The stored response of a money-moving request, keyed by (user, key)."""

    __tablename__ = "idempotency_keys"

    record_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    response_status: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)


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
    updated_at: Mapped[datetime] = _created_at()

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
    created_at: Mapped[datetime] = _created_at()

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
    created_at: Mapped[datetime] = _created_at()


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    token_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.session_id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = _created_at()


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
    created_at: Mapped[datetime] = _created_at()
