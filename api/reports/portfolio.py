"""An investor's portfolio: balances from the ledger's accounts, notes with what each has received."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import repository as loans_repo
from api.lending.tables import Investment, Loan
from api.payments import repository as payments_repo


@dataclass(frozen=True)
class NoteView:
    investment: Investment
    loan: Loan
    principal_received_cents: int
    interest_received_cents: int

    @property
    def outstanding_principal_cents(self) -> int:
        if self.loan.disbursed_at is None:
            return 0
        return self.investment.amount_cents - self.principal_received_cents


@dataclass(frozen=True)
class Portfolio:
    investor_id: int
    username: str
    cash_cents: int
    committed_cents: int
    outstanding_principal_cents: int
    interest_received_cents: int
    principal_received_cents: int
    notes: list[NoteView]

    @property
    def portfolio_value_cents(self) -> int:
        return self.cash_cents + self.committed_cents + self.outstanding_principal_cents


def portfolio_of(session: Session, caller: Caller) -> Portfolio:
    i = caller.investor()
    cash, committed, notes_account, interest = (
        Account.investor_cash(i),
        Account.investor_commitments(i),
        Account.investor_notes(i),
        Account.investor_interest_income(i),
    )
    found = ledger_repo.natural_balances(session, [cash, committed, notes_account, interest])
    rows = loans_repo.notes_of_investor(session, i)
    received = payments_repo.received_by_note(session, [inv.investment_id for inv, _ in rows])
    notes = [NoteView(inv, loan, *received.get(inv.investment_id, (0, 0))) for inv, loan in rows]
    return Portfolio(
        investor_id=i,
        username=caller.username,
        cash_cents=found[cash],
        committed_cents=found[committed],
        outstanding_principal_cents=found[notes_account],
        interest_received_cents=found[interest],
        principal_received_cents=sum(n.principal_received_cents for n in notes),
        notes=notes,
    )
