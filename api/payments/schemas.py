"""Payments' request and response bodies."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from api.kit.schemas import Cents, IdField, MoneyIn, RequestModel
from api.lending.schemas import LoanStatus


class PaymentCreate(RequestModel):
    loan_id: IdField
    amount: MoneyIn


class RefundCreate(RequestModel):
    amount: MoneyIn | None = Field(default=None, description="Default: everything held for the borrower")


class RefundPublic(BaseModel):
    loan_id: int
    amount: Cents
    held_for_borrower: Cents = Field(description="Still held after this refund")
    processor_reference: str
    status: str


class DistributionPublic(BaseModel):
    investment_id: int
    investor_id: int
    principal: Cents
    interest: Cents
    fees: Cents = 0
    recovery: Cents = 0
    servicing_fee: Cents = Field(default=0, description="Kept by the platform from this note's share")


class PaymentPublic(BaseModel):
    payment_id: int
    loan_id: int
    amount: Cents
    principal: Cents = Field(description="Principal paid, prepayment included")
    interest: Cents
    fees: Cents = Field(description="Late fees paid")
    prepayment: Cents = Field(default=0, description="The part of principal beyond what was due")
    recovery: Cents = Field(default=0, description="Received after charge-off")
    excess: Cents = Field(default=0, description="Beyond everything owed: held for the borrower, refundable")
    servicing_fee: Cents = Field(default=0, description="The platform's fee from the note holders' share")
    status: str = Field(
        default="settled",
        description="pending (applied to the loan; the debit has not settled yet), settled, returned, or "
        "superseded (re-applied as a new payment after an earlier one was returned)",
    )
    return_code: str | None = Field(default=None, description="The ACH return code of a returned payment")
    date: date
    loan_status: LoanStatus
    outstanding_principal: Cents | None = Field(default=None, description="After this payment (on creation)")
    payoff: Cents | None = Field(default=None, description="What closes the loan today, after this payment")
    processor_reference: str
    distributions: list[DistributionPublic] | None = None


class PayoffQuote(BaseModel):
    loan_id: int
    date: date
    payoff: Cents = Field(description="Pay exactly this on `date` and the loan closes with nothing left")
    principal: Cents
    interest: Cents = Field(description="Accrued to `date`: 30/360 per period, actual days within a period")
    fees: Cents
    loan_status: LoanStatus


class LateFeePublic(BaseModel):
    installment: int
    assessed_on: date
    amount: Cents
    reason: str


class ServicingPublic(BaseModel):
    loan_id: int
    as_of: date
    loan_status: LoanStatus
    days_past_due: int
    principal: Cents = Field(description="Outstanding principal")
    interest: Cents = Field(description="Accrued and unpaid, as of today")
    fees: Cents = Field(description="Late fees assessed and unpaid")
    past_due: Cents
    next_due_date: date | None
    next_due: Cents = Field(description="What the next installment (and any arrears) still lacks")
    payoff: Cents
    held_for_borrower: Cents = Field(description="Paid beyond what was owed, refundable")
    installments_paid: int
    payments: list[PaymentPublic]
    late_fees: list[LateFeePublic]
