"""Payments' request and response bodies."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from api.kit.schemas import Cents, IdField, MoneyIn, RequestModel
from api.lending.schemas import LoanStatus


class PaymentCreate(RequestModel):
    loan_id: IdField
    amount: MoneyIn


class DistributionPublic(BaseModel):
    investment_id: int
    investor_id: int
    principal: Cents
    interest: Cents


class PaymentPublic(BaseModel):
    payment_id: int
    loan_id: int
    amount: Cents
    principal: Cents
    interest: Cents
    fees: Cents
    date: date
    loan_status: LoanStatus
    outstanding_principal: Cents | None = Field(default=None, description="After this payment (on creation)")
    processor_reference: str
    distributions: list[DistributionPublic] | None = None
