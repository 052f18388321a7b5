"""Loan requests, listings and who may see them."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import Installment, Loan, User
from api.domain.money import format_cents
from api.domain.schedule import monthly_payment_cents
from api.errors import InvalidAmount, NotFound
from api.repositories import loans as loans_repo
from api.repositories import users as users_repo
from api.services.profiles import require_ready_to_borrow
from api.services.scoring import score_request
from api.settings import Settings

MIN_LOAN_CENTS = 100_000
MAX_LOAN_CENTS = 4_000_000
MIN_RATE_BPS = 100
MAX_RATE_BPS = 3_600
PPM = 1_000_000


def create_loan(
    session: Session,
    settings: Settings,
    borrower: User,
    *,
    amount_cents: int,
    rate_bps: int,
    term_months: int,
    purpose: str,
) -> Loan:
    if not MIN_LOAN_CENTS <= amount_cents <= MAX_LOAN_CENTS:
        raise InvalidAmount(f"amount must be between {format_cents(MIN_LOAN_CENTS)} and {format_cents(MAX_LOAN_CENTS)}")
    if amount_cents % settings.investment_step_cents:
        raise InvalidAmount(
            f"amount must be a multiple of {format_cents(settings.investment_step_cents)} so notes can fill it"
        )
    if not MIN_RATE_BPS <= rate_bps <= MAX_RATE_BPS:
        raise InvalidAmount("interest_rate must be between 1.00 and 36.00 (annual percent)")
    profile = require_ready_to_borrow(session, borrower)
    score = score_request(
        settings.model_dir,
        amount_cents=amount_cents,
        rate_bps=rate_bps,
        term_months=term_months,
        purpose=purpose,
        profile=profile,
    )
    loan = Loan(
        borrower_id=borrower.user_id,
        amount_cents=amount_cents,
        interest_rate_bps=rate_bps,
        term_months=term_months,
        purpose=purpose.strip(),
        grade=score.grade,
        probability_of_default_ppm=round(score.probability_of_default * PPM),
        score_model_version=score.model_version,
        score_reasons=json.dumps(list(score.reasons)),
        status="listed",
        funded_amount_cents=0,
        monthly_payment_cents=monthly_payment_cents(amount_cents, rate_bps, term_months),
        created_at=utcnow(),
    )
    return loans_repo.add_loan(session, loan)


def visible_loan(session: Session, user: User, loan_id: int) -> Loan:
    """Borrowers see only their own loans; investors and staff see every listing. A loan the user
    may not see is reported as missing, so its existence stays private."""
    loan = loans_repo.get_loan(session, loan_id)
    if loan is None or (user.role == "borrower" and loan.borrower_id != user.user_id):
        raise NotFound(f"loan {loan_id} not found")
    return loan


def list_for(
    session: Session,
    user: User,
    *,
    status: str | None,
    min_rate_bps: int | None,
    max_rate_bps: int | None,
    cursor: int | None,
    limit: int,
) -> tuple[list[Loan], int | None]:
    borrower_id = user.user_id if user.role == "borrower" else None
    rows = loans_repo.list_loans(
        session,
        status=status,
        min_rate_bps=min_rate_bps,
        max_rate_bps=max_rate_bps,
        borrower_id=borrower_id,
        before_loan_id=cursor,
        limit=limit + 1,
    )
    next_cursor = rows[limit - 1].loan_id if len(rows) > limit else None
    return rows[:limit], next_cursor


def schedule_of(session: Session, user: User, loan_id: int) -> tuple[Loan, list[Installment]]:
    loan = visible_loan(session, user, loan_id)
    if user.role == "investor":
        investor = users_repo.get_investor_by_user(session, user.user_id)
        if investor is None or not loans_repo.investor_has_note(session, investor.investor_id, loan_id):
            raise NotFound(f"loan {loan_id} has no schedule you can see")
    return loan, loans_repo.installments_of_loan(session, loan_id)
