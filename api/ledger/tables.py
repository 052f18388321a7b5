"""The double-entry ledger: accounts that carry their balance, and append-only transactions and postings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, created_at_column, updated_at_column


class LedgerAccount(Base):
    """One account (api/ledger/accounts.py). `balance_cents` is debit-positive and changes only together
    with a posting, under the account row's lock; a check proves it equals the sum of the postings."""

    __tablename__ = "ledger_accounts"

    account_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_type: Mapped[str] = mapped_column(String(32), nullable=False)
    # The investor's or loan's id, 0 for platform accounts; with the type it names the account.
    owner_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    investor_id: Mapped[int | None] = mapped_column(ForeignKey("investors.investor_id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    balance_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("account_type", "owner_id", name="uq_ledger_accounts_type_owner"),
        # Credit-normal cash and commitments are never overdrawn, whatever the code above does.
        CheckConstraint(
            "account_type NOT IN ('investor_cash', 'investor_commitments', 'investor_pending_cash') "
            "OR balance_cents <= 0",
            name="ck_ledger_accounts_never_overdrawn",
        ),
        Index("ix_ledger_accounts_account_type", "account_type"),
    )


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
    created_at: Mapped[datetime] = created_at_column()


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
