"""Loan requests, listings and who may see them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.identity.profiles import require_ready_to_borrow
from api.kit.clock import utcnow
from api.kit.errors import InvalidAmount, NotFound
from api.kit.money import format_cents
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Owner
from api.lending import repository as repo
from api.lending.limits import MAX_LOAN_CENTS, MAX_RATE_BPS, MIN_LOAN_CENTS, MIN_RATE_BPS, PPM
from api.lending.scoring import score_request
from api.lending.tables import Loan
from api.payments import repository as payments_repo
from api.payments.schedule import monthly_payment_cents
from api.payments.tables import Installment
from api.settings import Settings


def create_loan(
    session: Session,
    settings: Settings,
    borrower: Caller,
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
    now = utcnow()
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
        created_at=now,
        updated_at=now,
    )
    repo.add_loan(session, loan)
    ledger_repo.open_accounts(session, Owner.LOAN, loan.loan_id)
    return loan


def visible_loan(session: Session, caller: Caller, loan_id: int) -> Row[Any]:
    """Borrowers see only their own loans; investors and staff see every listing. A loan the caller
    may not see is reported as missing, so its existence stays private."""
    row = repo.visible_loan_row(session, caller, loan_id)
    if row is None:
        raise NotFound(f"loan {loan_id} not found")
    return row


def list_for(
    session: Session,
    caller: Caller,
    *,
    status: str | None,
    min_rate_bps: int | None,
    max_rate_bps: int | None,
    cursor: int | None,
    limit: int,
) -> tuple[Sequence[Row[Any]], int | None]:
    rows = repo.list_loans(
        session,
        caller,
        status=status,
        min_rate_bps=min_rate_bps,
        max_rate_bps=max_rate_bps,
        before_loan_id=cursor,
        limit=limit + 1,
    )
    next_cursor = int(rows[limit - 1].loan_id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def schedule_of(session: Session, caller: Caller, loan_id: int) -> tuple[Row[Any], list[Installment]]:
    """The schedule, for the loan's borrower, its note holders and staff."""
    loan = visible_loan(session, caller, loan_id)
    if caller.is_investor and not repo.investor_has_note(session, caller.investor(), loan_id):
        raise NotFound(f"loan {loan_id} has no schedule you can see")
    return loan, payments_repo.installments_of_loan(session, loan_id)
