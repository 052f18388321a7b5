from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.authz import Permission
from api.clock import today
from api.db.tables import User
from api.deps import SessionDep, require
from api.domain.bands import age_band, age_on, income_band
from api.domain.money import format_cents
from api.repositories import reports as reports_repo
from api.schemas.common import MoneyOut

router = APIRouter(tags=["reports"], prefix="/reports")
Analyst = Annotated[User, Depends(require(Permission.REPORTS_READ))]


class LoanBookRow(BaseModel):
    status: str
    grade: str
    loans: int
    amount: MoneyOut
    funded_amount: MoneyOut


class BandCount(BaseModel):
    band: str
    borrowers: int


class BorrowerBands(BaseModel):
    by_age: list[BandCount]
    by_income: list[BandCount]


@router.get("/loan-book", response_model=list[LoanBookRow])
def loan_book(_: Analyst, session: SessionDep) -> list[LoanBookRow]:
    """Loans by status and grade: counts and amounts, no personal data."""
    return [
        LoanBookRow(status=s, grade=g, loans=n, amount=format_cents(a), funded_amount=format_cents(f))
        for s, g, n, a, f in reports_repo.loan_book(session)
    ]


@router.get("/borrowers", response_model=BorrowerBands)
def borrower_bands(_: Analyst, session: SessionDep) -> BorrowerBands:
    """Borrowers by age band and income band: analysts see bands, never birthdays or incomes."""
    ages: Counter[str] = Counter()
    incomes: Counter[str] = Counter()
    now = today()
    for born, income in reports_repo.borrower_profiles(session):
        ages[age_band(age_on(born, now)) if isinstance(born, date) else "unknown"] += 1
        incomes[income_band(income) if income is not None else "unknown"] += 1
    return BorrowerBands(
        by_age=[BandCount(band=b, borrowers=n) for b, n in sorted(ages.items())],
        by_income=[BandCount(band=b, borrowers=n) for b, n in sorted(incomes.items())],
    )
