"""Investor cash: deposits and withdrawals through the payment processor."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import CashTransfer, Investor, User
from api.domain import ledger
from api.domain.money import format_cents
from api.errors import InsufficientFunds, InvalidAmount, NotFound
from api.processor.base import PaymentProcessor
from api.repositories import ledger as ledger_repo
from api.repositories import payments as payments_repo
from api.repositories import users as users_repo

MAX_DEPOSIT_CENTS = 100_000_000  # $1,000,000 a transfer


def deposit(
    session: Session, processor: PaymentProcessor, user: User, amount_cents: int, processor_key: str
) -> tuple[CashTransfer, int]:
    if amount_cents > MAX_DEPOSIT_CENTS:
        raise InvalidAmount(f"a single deposit may not exceed {format_cents(MAX_DEPOSIT_CENTS)}")
    investor = _locked_investor(session, user)
    reference = processor.collect(
        user_id=user.user_id, amount_cents=amount_cents, purpose="deposit", idempotency_key=processor_key
    )
    return _record(session, investor, user, "deposit", amount_cents, reference, ledger.deposit)


def withdraw(
    session: Session, processor: PaymentProcessor, user: User, amount_cents: int, processor_key: str
) -> tuple[CashTransfer, int]:
    """Send available cash back to the investor's bank; never more than they have."""
    investor = _locked_investor(session, user)
    cash = -ledger_repo.balance(session, ledger.investor_cash(investor.investor_id))
    if amount_cents > cash:
        raise InsufficientFunds(
            f"available cash is {format_cents(cash)}; you asked to withdraw {format_cents(amount_cents)}"
        )
    reference = processor.payout(
        user_id=user.user_id, amount_cents=amount_cents, purpose="withdrawal", idempotency_key=processor_key
    )
    return _record(session, investor, user, "withdrawal", amount_cents, reference, ledger.withdrawal)


def _locked_investor(session: Session, user: User) -> Investor:
    # The investor row lock serializes every change to this investor's cash.
    investor = users_repo.get_investor_by_user(session, user.user_id, lock=True)
    if investor is None:
        raise NotFound("no investor account for this user")
    return investor


def _record(
    session: Session,
    investor: Investor,
    user: User,
    direction: str,
    amount_cents: int,
    reference: str,
    postings: Callable[[int, int], list[ledger.Posting]],
) -> tuple[CashTransfer, int]:
    transfer = payments_repo.add_transfer(
        session,
        CashTransfer(
            user_id=user.user_id,
            direction=direction,
            amount_cents=amount_cents,
            processor_reference=reference,
            created_at=utcnow(),
        ),
    )
    ledger_repo.post_transaction(
        session,
        direction,
        postings(investor.investor_id, amount_cents),
        f"{direction} {transfer.transfer_id}",
        transfer_id=transfer.transfer_id,
    )
    return transfer, -ledger_repo.balance(session, ledger.investor_cash(investor.investor_id))
