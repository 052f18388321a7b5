from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import MoneyIn, MoneyOut, RateIn, RequestModel

LoanStatus = Literal["listed", "funded", "active", "repaid", "expired", "cancelled", "late", "charged_off"]


class LoanCreate(RequestModel):
    amount: MoneyIn = Field(description="Between 1000.00 and 40000.00, a multiple of 25.00")
    interest_rate: RateIn = Field(description="Annual percent, 1.00 to 36.00")
    term_months: Literal[12, 24, 36, 48, 60]
    purpose: str = Field(min_length=3, max_length=200)


class LoanCancel(RequestModel):
    """Cancelling has no options: the idempotency fingerprint is the path alone."""


class LoanPublic(BaseModel):
    loan_id: int
    borrower_id: int
    amount: MoneyOut
    interest_rate: MoneyOut
    term_months: int
    purpose: str
    status: LoanStatus
    grade: str
    probability_of_default: str = Field(description="Calibrated probability of default, 4 decimals")
    score_reasons: list[str] = Field(default_factory=list)
    funded_amount: MoneyOut
    remaining_amount: MoneyOut
    monthly_payment: MoneyOut
    created_at: datetime
    funded_at: datetime | None
    disbursed_at: datetime | None


class LoansPublic(BaseModel):
    items: list[LoanPublic]
    next_cursor: str | None


class InstallmentPublic(BaseModel):
    number: int
    due_date: date
    payment: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    balance_after: MoneyOut
    paid_principal: MoneyOut
    paid_interest: MoneyOut
    status: Literal["paid", "partial", "due"]


class SchedulePublic(BaseModel):
    loan_id: int
    status: LoanStatus
    outstanding_principal: MoneyOut
    installments: list[InstallmentPublic]
