"""Buying notes in listed loans."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import Investment, Loan, User
from api.domain import ledger
from api.domain.money import format_cents
from api.errors import ExceedsLoanAmount, InsufficientFunds, InvalidAmount, LoanNotOpen, NotFound
from api.processor.base import PaymentProcessor
from api.repositories import ledger as ledger_repo
from api.repositories import loans as loans_repo
from api.repositories import users as users_repo
from api.services.funding import fund_and_disburse
from api.settings import Settings


def invest(
    session: Session,
    settings: Settings,
    processor: PaymentProcessor,
    user: User,
    loan_id: int,
    amount_cents: int,
) -> tuple[Investment, Loan]:
    step = settings.investment_step_cents
    if amount_cents % step:
        raise InvalidAmount(f"amount must be a multiple of {format_cents(step)}")
    # Lock order, everywhere: the loan row first, then the investor row.
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    if loan is None:
        raise NotFound(f"loan {loan_id} not found")
    if loan.status != "listed":
        raise LoanNotOpen(f"loan {loan_id} is {loan.status} and no longer takes investments")
    remaining = loan.amount_cents - loan.funded_amount_cents
    if amount_cents > remaining:
        raise ExceedsLoanAmount(
            f"loan {loan_id} needs only {format_cents(remaining)} more; "
            f"you asked to invest {format_cents(amount_cents)}"
        )
    investor = users_repo.get_investor_by_user(session, user.user_id, lock=True)
    if investor is None:
        raise NotFound("no investor account for this user")
    cash = -ledger_repo.balance(session, ledger.investor_cash(investor.investor_id))
    if amount_cents > cash:
        raise InsufficientFunds(
            f"available cash is {format_cents(cash)}; deposit more to invest {format_cents(amount_cents)}"
        )
    investment = loans_repo.add_investment(
        session,
        Investment(
            loan_id=loan.loan_id,
            investor_id=investor.investor_id,
            amount_cents=amount_cents,
            created_at=utcnow(),
        ),
    )
    ledger_repo.post_transaction(
        session,
        "investment",
        ledger.investment(investor.investor_id, amount_cents),
        f"note {investment.investment_id} in loan {loan.loan_id}",
        loan_id=loan.loan_id,
        investment_id=investment.investment_id,
    )
    loan.funded_amount_cents += amount_cents
    session.flush()
    if loan.funded_amount_cents == loan.amount_cents:
        fund_and_disburse(session, loan, processor)
    return investment, loan
