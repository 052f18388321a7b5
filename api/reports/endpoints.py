"""Reports over HTTP: an investor's own portfolio, and aggregates for analysts (bands, never people)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from api.authz import Permission
from api.deps import ReadSessionDep, require
from api.identity import repository as identity_repo
from api.identity.bands import age_band, age_on, income_band
from api.identity.caller import Caller
from api.kit.clock import today
from api.kit.routing import TransactionalRoute
from api.reports import repository as repo
from api.reports.portfolio import portfolio_of
from api.reports.schemas import BandCount, BorrowerBands, LoanBookRow, NotePublic, PortfolioPublic

router = APIRouter(route_class=TransactionalRoute)
Analyst = Annotated[Caller, Depends(require(Permission.REPORTS_READ))]
PortfolioOwner = Annotated[Caller, Depends(require(Permission.PORTFOLIO_OWN))]


@router.get("/investors/me/portfolio", tags=["investors"], response_model=PortfolioPublic)
def portfolio(caller: PortfolioOwner, session: ReadSessionDep) -> PortfolioPublic:
    """Cash, committed cash, notes, outstanding principal and what has been received."""
    p = portfolio_of(session, caller)
    return PortfolioPublic(
        investor_id=p.investor_id,
        username=p.username,
        cash=p.cash_cents,
        committed=p.committed_cents,
        outstanding_principal=p.outstanding_principal_cents,
        interest_received=p.interest_received_cents,
        principal_received=p.principal_received_cents,
        portfolio_value=p.portfolio_value_cents,
        notes=[
            NotePublic(
                investment_id=n.investment.investment_id,
                loan_id=n.loan.loan_id,
                amount=n.investment.amount_cents,
                grade=n.loan.grade,
                interest_rate=n.loan.interest_rate_bps,
                loan_status=n.loan.status,
                principal_received=n.principal_received_cents,
                interest_received=n.interest_received_cents,
                outstanding_principal=n.outstanding_principal_cents,
                created_at=n.investment.created_at,
            )
            for n in p.notes
        ],
    )


@router.get("/reports/loan-book", tags=["reports"], response_model=list[LoanBookRow])
def loan_book(_: Analyst, session: ReadSessionDep) -> list[LoanBookRow]:
    """Loans by status and grade: counts and amounts, no personal data."""
    return [
        LoanBookRow(status=s, grade=g, loans=n, amount=a, funded_amount=f) for s, g, n, a, f in repo.loan_book(session)
    ]


@router.get("/reports/borrowers", tags=["reports"], response_model=BorrowerBands)
def borrower_bands(_: Analyst, session: ReadSessionDep) -> BorrowerBands:
    """Borrowers by age band and income band: analysts see bands, never birthdays or incomes."""
    ages: Counter[str] = Counter()
    incomes: Counter[str] = Counter()
    now = today()
    for born, income in identity_repo.borrower_profiles(session):
        ages[age_band(age_on(born, now)) if isinstance(born, date) else "unknown"] += 1
        incomes[income_band(income) if income is not None else "unknown"] += 1
    return BorrowerBands(
        by_age=[BandCount(band=b, borrowers=n) for b, n in sorted(ages.items())],
        by_income=[BandCount(band=b, borrowers=n) for b, n in sorted(incomes.items())],
    )
