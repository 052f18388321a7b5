"""Lending's request and response bodies: loan requests, listings, notes and schedules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.kit.schemas import Cents, MoneyIn, RateBps, RateIn, RequestModel
from api.lending.limits import PPM
from api.payments.schedule import installment_state

LoanStatus = Literal["listed", "funded", "active", "repaid", "expired", "cancelled", "late", "charged_off"]
Term = Literal[12, 24, 36, 48, 60]


class LoanCreate(RequestModel):
    amount: MoneyIn = Field(description="Between 1000.00 and 40000.00, a multiple of 25.00")
    interest_rate: RateIn = Field(description="Annual percent, 1.00 to 36.00")
    term_months: Term
    purpose: str = Field(min_length=3, max_length=200)


class LoanCancel(RequestModel):
    """Cancelling has no options: the idempotency fingerprint is the path alone."""


class LoanPublic(BaseModel):
    loan_id: int
    borrower_id: int
    amount: Cents
    interest_rate: RateBps
    term_months: int
    purpose: str
    status: LoanStatus
    grade: str
    probability_of_default: str = Field(description="Calibrated probability of default, 4 decimals")
    score_reasons: list[str] = Field(default_factory=list)
    funded_amount: Cents
    remaining_amount: Cents
    monthly_payment: Cents
    created_at: datetime
    funded_at: datetime | None
    disbursed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> LoanPublic:
        """From a loan (ORM object or a row of api.lending.repository.LISTING_COLUMNS). The values come from
        the database's own constraints, so they are not validated a second time (a page holds many)."""
        return cls.model_construct(
            loan_id=row.loan_id,
            borrower_id=row.borrower_id,
            amount=row.amount_cents,
            interest_rate=row.interest_rate_bps,
            term_months=row.term_months,
            purpose=row.purpose,
            status=row.status,
            grade=row.grade,
            probability_of_default=probability_text(row.probability_of_default_ppm),
            score_reasons=json.loads(row.score_reasons or "[]"),
            funded_amount=row.funded_amount_cents,
            remaining_amount=row.amount_cents - row.funded_amount_cents,
            monthly_payment=row.monthly_payment_cents,
            created_at=_utc(row.created_at) or row.created_at,
            funded_at=_utc(row.funded_at),
            disbursed_at=_utc(row.disbursed_at),
        )


class LoansPublic(BaseModel):
    items: list[LoanPublic]
    next_cursor: str | None


class InvestmentCreate(RequestModel):
    amount: MoneyIn


class InvestmentPublic(BaseModel):
    investment_id: int
    loan_id: int
    investor_id: int
    amount: Cents
    loan_status: LoanStatus
    loan_funded_amount: Cents
    created_at: datetime


def probability_text(ppm: int) -> str:
    """Parts per million as a probability with four decimals, rounded half up ("0.0457")."""
    tenths_of_bps = (ppm * 10_000 + PPM // 2) // PPM
    return f"{tenths_of_bps // 10_000}.{tenths_of_bps % 10_000:04d}"


def _utc(moment: datetime | None) -> datetime | None:
    # Core rows from SQLite come back naive; every stored timestamp is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class InstallmentPublic(BaseModel):
    number: int
    due_date: date
    payment: Cents
    principal: Cents
    interest: Cents
    balance_after: Cents
    paid_principal: Cents
    paid_interest: Cents
    status: Literal["paid", "partial", "due"]

    @classmethod
    def from_row(cls, row: Any) -> InstallmentPublic:
        return cls(
            number=row.number,
            due_date=row.due_date,
            payment=row.payment_cents,
            principal=row.principal_cents,
            interest=row.interest_cents,
            balance_after=row.balance_after_cents,
            paid_principal=row.paid_principal_cents,
            paid_interest=row.paid_interest_cents,
            status=installment_state(
                row.principal_cents + row.interest_cents, row.paid_principal_cents + row.paid_interest_cents
            ),
        )


class SchedulePublic(BaseModel):
    loan_id: int
    status: LoanStatus
    outstanding_principal: Cents
    installments: list[InstallmentPublic]
