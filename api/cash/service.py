"""Investor cash: deposits and withdrawals through the payment processor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from api.cash import repository as repo
from api.identity.caller import Caller
from api.integrations.processor.base import PaymentProcessor
from api.kit.clock import utcnow
from api.kit.errors import InsufficientFunds, InvalidAmount
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account

MAX_DEPOSIT_CENTS = 100_000_000  # $1,000,000 a transfer


@dataclass(frozen=True, slots=True)
class Transfer:
    transfer_id: int
    direction: str
    amount_cents: int
    cash_after_cents: int
    processor_reference: str
    created_at: datetime


def deposit(
    session: Session, processor: PaymentProcessor, caller: Caller, amount_cents: int, processor_key: str
) -> Transfer:
    if amount_cents > MAX_DEPOSIT_CENTS:
        raise InvalidAmount(f"a single deposit may not exceed {format_cents(MAX_DEPOSIT_CENTS)}")
    investor_id = caller.investor()
    reference = processor.collect(
        user_id=caller.user_id, amount_cents=amount_cents, purpose="deposit", idempotency_key=processor_key
    )
    return _record(session, caller, investor_id, "deposit", amount_cents, reference, postings.deposit)


def withdraw(
    session: Session, processor: PaymentProcessor, caller: Caller, amount_cents: int, processor_key: str
) -> Transfer:
    """Send available cash back to the investor's bank; never more than they have."""
    investor_id = caller.investor()
    account = Account.investor_cash(investor_id)
    # Locked until commit: the processor pays out only what this transaction can then post.
    cash = ledger_repo.lock_natural_balances(session, [account])[account]
    if amount_cents > cash:
        raise InsufficientFunds(
            f"available cash is {format_cents(cash)}; you asked to withdraw {format_cents(amount_cents)}"
        )
    reference = processor.payout(
        user_id=caller.user_id, amount_cents=amount_cents, purpose="withdrawal", idempotency_key=processor_key
    )
    return _record(session, caller, investor_id, "withdrawal", amount_cents, reference, postings.withdrawal)


def _cash(session: Session, investor_id: int) -> int:
    account = Account.investor_cash(investor_id)
    return ledger_repo.natural_balances(session, [account])[account]


def _record(
    session: Session,
    caller: Caller,
    investor_id: int,
    direction: str,
    amount_cents: int,
    reference: str,
    make_postings: Callable[[int, int], list[postings.Posting]],
) -> Transfer:
    now = utcnow()
    transfer_id = repo.add_transfer(
        session,
        user_id=caller.user_id,
        direction=direction,
        amount_cents=amount_cents,
        reference=reference,
        created_at=now,
    )
    try:
        # The cash account's row lock, taken here, serialises every change to this investor's cash; a
        # withdrawal racing an investment is refused by the posting itself if the cash is gone.
        ledger_repo.post(
            session,
            direction,
            make_postings(investor_id, amount_cents),
            f"{direction} {transfer_id}",
            transfer_id=transfer_id,
            created_at=now,
        )
    except ledger_repo.Overdrawn:
        raise InsufficientFunds(
            f"available cash is {format_cents(_cash(session, investor_id))}; "
            f"you asked to withdraw {format_cents(amount_cents)}"
        ) from None
    return Transfer(transfer_id, direction, amount_cents, _cash(session, investor_id), reference, now)
