"""Reports' response bodies: an investor's portfolio, and de-identified aggregates for analysts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from api.kit.schemas import Cents, RateBps
from api.lending.schemas import LoanStatus


class NotePublic(BaseModel):
    investment_id: int
    loan_id: int
    amount: Cents
    grade: str
    interest_rate: RateBps
    loan_status: LoanStatus
    principal_received: Cents
    interest_received: Cents
    outstanding_principal: Cents
    created_at: datetime


class PortfolioPublic(BaseModel):
    investor_id: int
    username: str
    cash: Cents
    committed: Cents
    outstanding_principal: Cents
    interest_received: Cents
    principal_received: Cents
    portfolio_value: Cents
    notes: list[NotePublic]


class LoanBookRow(BaseModel):
    status: str
    grade: str
    loans: int
    amount: Cents
    funded_amount: Cents


class BandCount(BaseModel):
    band: str
    borrowers: int


class BorrowerBands(BaseModel):
    by_age: list[BandCount]
    by_income: list[BandCount]
