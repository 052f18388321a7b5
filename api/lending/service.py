"""Loan applications, listings and who may see them.

An application is validated, then (with the borrower's consent recorded) the bureau is pulled once, the
model scores it with the bureau file, the rate card prices it, and it is listed: requested -> listed, two
lifecycle events, in one transaction. A refusal (a rate under the grade's floor, an APR over the cap) rolls
all of it back, the pull included: nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.identity.profiles import require_ready_to_borrow
from api.integrations.bureau.bands import bands
from api.integrations.bureau.base import Applicant, Consent, CreditBureau
from api.integrations.bureau.sandbox import SandboxBureau
from api.kit.clock import utcnow
from api.kit.errors import InvalidAmount, NotFound
from api.kit.money import format_cents, format_rate
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Owner
from api.lending import events, pricing
from api.lending import repository as repo
from api.lending.errors import AprAboveCap, ConsentRequired, RateBelowFloor
from api.lending.events import Actor
from api.lending.lifecycle import LoanEvent, LoanStatus
from api.lending.limits import MAX_LOAN_CENTS, MAX_RATE_BPS, MIN_LOAN_CENTS, MIN_RATE_BPS, PPM, TERMS_MONTHS
from api.lending.scoring import pinned_scorer, score_application
from api.lending.tables import Loan, LoanEventRow
from api.payments import repository as payments_repo
from api.payments.schedule import monthly_payment_cents
from api.payments.tables import Installment
from api.settings import Settings
from models.scoring import CreditScorer

UNDERWRITING = Actor.system("underwriting")


def create_loan(
    session: Session,
    settings: Settings,
    borrower: Caller,
    *,
    amount_cents: int,
    rate_bps: int | None,
    term_months: int,
    purpose: str,
    consent: Consent | None = None,
    accept_partial_funding: bool = False,
    bureau: CreditBureau | None = None,
    scorer: CreditScorer | None = None,
) -> Loan:
    if not MIN_LOAN_CENTS <= amount_cents <= MAX_LOAN_CENTS:
        raise InvalidAmount(f"amount must be between {format_cents(MIN_LOAN_CENTS)} and {format_cents(MAX_LOAN_CENTS)}")
    if amount_cents % settings.investment_step_cents:
        raise InvalidAmount(
            f"amount must be a multiple of {format_cents(settings.investment_step_cents)} so notes can fill it"
        )
    if rate_bps is not None and not MIN_RATE_BPS <= rate_bps <= MAX_RATE_BPS:
        raise InvalidAmount("interest_rate must be between 1.00 and 36.00 (annual percent)")
    if term_months not in TERMS_MONTHS:
        raise InvalidAmount(f"term_months must be one of {', '.join(map(str, TERMS_MONTHS))}")
    if consent is None:
        raise ConsentRequired("a loan application needs the borrower's consent to a credit check")
    profile = require_ready_to_borrow(session, borrower)
    # require_ready_to_borrow has checked that identity and declared figures are present.
    applicant = Applicant(
        user_id=borrower.user_id,
        legal_name=profile.legal_name or "",
        date_of_birth=profile.date_of_birth,  # type: ignore[arg-type]
        postal_code=profile.postal_code or "",
        country=profile.country or "",
        annual_income_cents=profile.annual_income_cents,
        employment_length_years=profile.employment_length_years,
        housing=profile.housing,
    )
    pulled = (bureau or SandboxBureau()).pull(
        applicant, consent, amount_cents=amount_cents, term_months=term_months, purpose=purpose.strip()
    )
    score, input_bins = score_application(
        scorer or pinned_scorer(settings),
        amount_cents=amount_cents,
        term_months=term_months,
        purpose=purpose.strip(),
        profile=profile,
        bureau_file=pulled.file,
    )
    pd_ppm = round(score.probability_of_default * PPM)
    try:
        price = pricing.price(
            grade=score.grade,
            probability_of_default_ppm=pd_ppm,
            amount_cents=amount_cents,
            term_months=term_months,
            requested_rate_bps=rate_bps,
        )
    except pricing.RateBelowFloor as low:
        raise RateBelowFloor(
            f"interest_rate {format_rate(rate_bps or 0)} is below the floor of {format_rate(low.floor_bps)} for "
            f"grade {low.grade} (rate card {low.version}); ask for at least {format_rate(low.floor_bps)}, or omit "
            "interest_rate to be priced at the grade's rate"
        ) from None
    except pricing.AprAboveCap as high:
        raise AprAboveCap(
            f"with its origination fee this loan's APR would be {format_rate(high.apr_bps)}%, above the "
            f"{format_rate(pricing.MAX_APR_BPS)}% the platform lends at; choose a longer term or a lower rate"
        ) from None
    now = utcnow()
    loan = Loan(
        borrower_id=borrower.user_id,
        amount_cents=amount_cents,
        requested_amount_cents=amount_cents,
        interest_rate_bps=price.interest_rate_bps,
        term_months=term_months,
        purpose=purpose.strip(),
        grade=score.grade,
        probability_of_default_ppm=pd_ppm,
        score_model_version=score.model_version,
        score_reasons=json.dumps(list(score.reasons)),
        status=LoanStatus.REQUESTED.value,
        funded_amount_cents=0,
        funded_bps=0,
        monthly_payment_cents=monthly_payment_cents(amount_cents, price.interest_rate_bps, term_months),
        rate_card_version=price.rate_card_version,
        origination_fee_bps=price.origination_fee_bps,
        origination_fee_cents=price.origination_fee_cents,
        apr_bps=price.apr_bps,
        expected_loss_cents=price.expected_loss_cents,
        accepts_partial_funding=accept_partial_funding,
        created_at=now,
        updated_at=now,
    )
    repo.add_loan(session, loan)
    events.record(session, loan.loan_id, LoanEvent.REQUEST, None, loan.status, Actor.of(borrower), at=now)
    ledger_repo.open_accounts(session, Owner.LOAN, loan.loan_id)
    repo.add_credit_pull(
        session,
        loan_id=loan.loan_id,
        user_id=borrower.user_id,
        bureau=pulled.bureau,
        inquiry=pulled.inquiry,
        report_id=pulled.file.report_id,
        bureau_file=json.dumps(
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(pulled.file).items()}, sort_keys=True
        ),
        consent_given_at=consent.given_at,
        consent_version=consent.text_version,
        consent_ip=consent.ip,
        consent_user_agent=(consent.user_agent or "")[:200] or None,
        pulled_at=now,
        **bands(pulled.file),
    )
    repo.add_score_input_bins(session, loan.loan_id, input_bins)
    loan.listed_at = now
    loan.listing_expires_at = now + timedelta(days=settings.listing_days)
    events.transition(
        session,
        loan,
        LoanEvent.LIST,
        UNDERWRITING,
        details={
            "grade": score.grade,
            "model_version": score.model_version,
            "rate_card_version": price.rate_card_version,
            "interest_rate_bps": price.interest_rate_bps,
            "apr_bps": price.apr_bps,
        },
    )
    session.flush()
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


def search_for(session: Session, caller: Caller, search: repo.Search, limit: int) -> tuple[list[Any], Any | None]:
    """A page of the marketplace search and the last row (the cursor's source) when there is a next page."""
    rows = repo.search_loans(session, caller, search, limit + 1)
    return rows[:limit], (rows[limit - 1] if len(rows) > limit else None)


def schedule_of(session: Session, caller: Caller, loan_id: int) -> tuple[Row[Any], list[Installment]]:
    """The schedule, for the loan's borrower, its note holders and staff."""
    loan = visible_loan(session, caller, loan_id)
    if caller.is_investor and not repo.investor_has_note(session, caller.investor(), loan_id):
        raise NotFound(f"loan {loan_id} has no schedule you can see")
    return loan, payments_repo.installments_of_loan(session, loan_id)


def events_of(session: Session, caller: Caller, loan_id: int) -> list[LoanEventRow]:
    """The loan's lifecycle, oldest first, for whoever may see the loan."""
    visible_loan(session, caller, loan_id)
    return list(
        session.scalars(select(LoanEventRow).where(LoanEventRow.loan_id == loan_id).order_by(LoanEventRow.event_id))
    )
