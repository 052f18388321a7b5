"""Reports over HTTP: an investor's own portfolio, and aggregates for analysts (bands, never people)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse

from api.authz import Permission
from api.deps import ReadSessionDep, require
from api.identity import repository as identity_repo
from api.identity.bands import age_band, age_on, income_band
from api.identity.caller import Caller
from api.kit.clock import today
from api.kit.routing import TransactionalRoute
from api.reports import repository as repo
from api.reports import statements
from api.reports.portfolio import portfolio_of
from api.reports.schemas import AnnualSummaryPublic, BandCount, BorrowerBands, LoanBookRow, NotePublic, PortfolioPublic

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
        cash_available=p.cash_cents,
        cash_pending=p.pending_cents,
        fees_received=p.fees_received_cents,
        recoveries_received=p.recoveries_cents,
        servicing_fees=p.servicing_fees_cents,
        charged_off=p.charged_off_cents,
        late_notes=p.late_notes,
        charged_off_notes=p.charged_off_notes,
        nar=p.nar,
        xirr=p.xirr,
        notes=[
            NotePublic(
                investment_id=n.investment.investment_id,
                loan_id=n.loan.loan_id,
                amount=n.investment.amount_cents,
                grade=n.loan.grade,
                interest_rate=n.loan.interest_rate_bps,
                loan_status=n.loan.status,
                status=n.investment.status,
                principal_received=n.principal_received_cents,
                interest_received=n.interest_received_cents,
                outstanding_principal=n.outstanding_principal_cents,
                created_at=n.investment.created_at,
                fees_received=n.fees_received_cents,
                recoveries_received=n.recoveries_cents,
                servicing_fees=n.servicing_fees_cents,
                charged_off=n.charged_off_cents,
                nar=n.nar,
                xirr=n.xirr,
            )
            for n in p.notes
        ],
    )


@router.get(
    "/investors/me/statements/{month}",
    tags=["investors"],
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, 422: {"description": "Not YYYY-MM"}},
)
def monthly_statement(
    month: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    caller: PortfolioOwner,
    session: ReadSessionDep,
    format: Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")] = "html",
) -> Response:
    """Every movement of the investor's cash in the month, with opening and closing balances."""
    s = statements.statement(session, caller, month)
    if format == "pdf":
        return Response(
            statements.as_pdf(s),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="peerlend-{month}.pdf"'},
        )
    return HTMLResponse(statements.as_html(s))


@router.get("/investors/me/annual-summary/{year}", tags=["investors"], response_model=AnnualSummaryPublic)
def annual_summary(
    year: Annotated[int, Path(ge=2000, le=2100)], caller: PortfolioOwner, session: ReadSessionDep
) -> AnnualSummaryPublic:
    """The year's interest, late fees, recoveries, servicing fees and losses (charged-off principal)."""
    a = statements.annual_summary(session, caller, year)
    return AnnualSummaryPublic(
        year=a.year,
        interest=a.interest_cents,
        late_fees=a.late_fees_cents,
        recoveries=a.recoveries_cents,
        servicing_fees=a.servicing_fees_cents,
        losses=a.charged_off_cents,
        net=a.net_cents,
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
