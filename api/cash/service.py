"""Investor cash: deposits and withdrawals through the payment processor's outbox.

A deposit is pending until the processor settles it (two business days in the sandbox): it shows as pending
cash and cannot be invested or withdrawn. A withdrawal leaves available cash at once, so it can never be spent
twice; if the bank returns it, it comes back. Neither calls the processor inside the request: the transfer row
written here is the outbox the worker submits from (api/integrations/processor/outbox.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from api.cash import repository as repo
from api.identity.caller import Caller
from api.integrations.processor import outbox
from api.integrations.processor.base import Direction
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
    pending_cash_cents: int
    processor_reference: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CashBalances:
    available_cents: int
    pending_cents: int
    committed_cents: int


def deposit(session: Session, caller: Caller, amount_cents: int) -> Transfer:
    if amount_cents > MAX_DEPOSIT_CENTS:
        raise InvalidAmount(f"a single deposit may not exceed {format_cents(MAX_DEPOSIT_CENTS)}")
    investor_id = caller.investor()
    return _record(session, caller, investor_id, "deposit", "collect", amount_cents)


def withdraw(session: Session, caller: Caller, amount_cents: int) -> Transfer:
    """Send available cash back to the investor's bank; never more than they have (pending cash excluded)."""
    investor_id = caller.investor()
    try:
        return _record(session, caller, investor_id, "withdrawal", "payout", amount_cents)
    except ledger_repo.Overdrawn:
        raise InsufficientFunds(
            f"available cash is {format_cents(balances(session, investor_id).available_cents)}; "
            f"you asked to withdraw {format_cents(amount_cents)}"
        ) from None


def balances(session: Session, investor_id: int) -> CashBalances:
    accounts = [
        Account.investor_cash(investor_id),
        Account.investor_pending_cash(investor_id),
        Account.investor_commitments(investor_id),
    ]
    found = ledger_repo.natural_balances(session, accounts)
    return CashBalances(*(found[a] for a in accounts))


def _record(
    session: Session, caller: Caller, investor_id: int, kind: str, direction: Direction, amount_cents: int
) -> Transfer:
    now = utcnow()
    # The cash account's row lock, taken by the posting, serialises every change to this investor's cash; a
    # withdrawal racing an investment is refused by the posting itself if the cash is gone.
    reference = outbox.new_reference()
    transfer_id = repo.add_transfer(
        session, user_id=caller.user_id, direction=kind, amount_cents=amount_cents, reference=reference, created_at=now
    )
    queued = outbox.enqueue(
        session,
        client_reference=reference,
        kind=kind,
        direction=direction,
        user_id=caller.user_id,
        amount_cents=amount_cents,
        investor_id=investor_id,
        cash_transfer_id=transfer_id,
    )
    make = postings.deposit if kind == "deposit" else postings.withdrawal
    ledger_repo.post(
        session,
        kind,
        make(investor_id, amount_cents),
        f"{kind} {transfer_id} asked for",
        transfer_id=transfer_id,
        created_at=now,
    )
    cash = balances(session, investor_id)
    return Transfer(
        transfer_id,
        kind,
        amount_cents,
        cash.available_cents,
        cash.pending_cents,
        queued.client_reference,
        "pending",
        now,
    )
