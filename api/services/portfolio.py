"""An investor's portfolio, every figure derived from the ledger or the notes' distributions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.db.tables import Investment, Investor, Loan, User
from api.domain import ledger
from api.errors import NotFound
from api.repositories import ledger as ledger_repo
from api.repositories import loans as loans_repo
from api.repositories import payments as payments_repo
from api.repositories import users as users_repo


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
    investor: Investor
    cash_cents: int
    committed_cents: int
    outstanding_principal_cents: int
    interest_received_cents: int
    principal_received_cents: int
    notes: list[NoteView]

    @property
    def portfolio_value_cents(self) -> int:
        return self.cash_cents + self.committed_cents + self.outstanding_principal_cents


def portfolio_value_cents(session: Session, investor_id: int) -> int:
    codes = [
        ledger.investor_cash(investor_id),
        ledger.investor_commitments(investor_id),
        ledger.investor_notes(investor_id),
    ]
    return -sum(ledger_repo.balances(session, codes).values())


def portfolio_of(session: Session, user: User) -> Portfolio:
    investor = users_repo.get_investor_by_user(session, user.user_id)
    if investor is None:
        raise NotFound("no investor account for this user")
    i = investor.investor_id
    codes = {
        "cash": ledger.investor_cash(i),
        "committed": ledger.investor_commitments(i),
        "notes": ledger.investor_notes(i),
        "interest": ledger.investor_interest_income(i),
    }
    found = ledger_repo.balances(session, codes.values())
    rows = loans_repo.notes_of_investor(session, i)
    received = payments_repo.principal_received_by_note(session, [inv.investment_id for inv, _ in rows])
    notes = [NoteView(inv, loan, *received.get(inv.investment_id, (0, 0))) for inv, loan in rows]
    return Portfolio(
        investor=investor,
        cash_cents=-found[codes["cash"]],
        committed_cents=-found[codes["committed"]],
        outstanding_principal_cents=-found[codes["notes"]],
        interest_received_cents=-found[codes["interest"]],
        principal_received_cents=sum(n.principal_received_cents for n in notes),
        notes=notes,
    )
