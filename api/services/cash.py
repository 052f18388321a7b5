"""Investor cash: deposits (and, later, withdrawals) through the payment processor."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import CashTransfer, User
from api.domain import ledger
from api.domain.money import format_cents
from api.errors import InsufficientFunds, InvalidAmount, NotFound
from api.processor.base import PaymentProcessor
from api.repositories import ledger as ledger_repo
from api.repositories import payments as payments_repo
from api.repositories import users as users_repo

MAX_DEPOSIT_CENTS = 100_000_000  # $1,000,000 a transfer


def deposit(session: Session, processor: PaymentProcessor, user: User, amount_cents: int) -> tuple[CashTransfer, int]:
    if amount_cents > MAX_DEPOSIT_CENTS:
        raise InvalidAmount("a single deposit may not exceed 1000000.00")
    investor = users_repo.get_investor_by_user(session, user.user_id, lock=True)
    if investor is None:
        raise NotFound("no investor account for this user")
    reference = processor.collect(user_id=user.user_id, amount_cents=amount_cents, purpose="deposit")
    transfer = payments_repo.add_transfer(
        session,
        CashTransfer(
            user_id=user.user_id,
            direction="deposit",
            amount_cents=amount_cents,
            processor_reference=reference,
            created_at=utcnow(),
        ),
    )
    ledger_repo.post_transaction(
        session,
        "deposit",
        ledger.deposit(investor.investor_id, amount_cents),
        f"deposit {transfer.transfer_id}",
        transfer_id=transfer.transfer_id,
    )
    cash = -ledger_repo.balance(session, ledger.investor_cash(investor.investor_id))
    return transfer, cash


def withdraw(session: Session, processor: PaymentProcessor, user: User, amount_cents: int) -> tuple[CashTransfer, int]:
    """Send available cash back to the investor's bank; never more than they have."""
    investor = users_repo.get_investor_by_user(session, user.user_id, lock=True)
    if investor is None:
        raise NotFound("no investor account for this user")
    cash = -ledger_repo.balance(session, ledger.investor_cash(investor.investor_id))
    if amount_cents > cash:
        raise InsufficientFunds(
            f"available cash is {format_cents(cash)}; you asked to withdraw {format_cents(amount_cents)}"
        )
    reference = processor.payout(user_id=user.user_id, amount_cents=amount_cents, purpose="withdrawal")
    transfer = payments_repo.add_transfer(
        session,
        CashTransfer(
            user_id=user.user_id,
            direction="withdrawal",
            amount_cents=amount_cents,
            processor_reference=reference,
            created_at=utcnow(),
        ),
    )
    ledger_repo.post_transaction(
        session,
        "withdrawal",
        ledger.withdrawal(investor.investor_id, amount_cents),
        f"withdrawal {transfer.transfer_id}",
        transfer_id=transfer.transfer_id,
    )
    return transfer, cash - amount_cents
