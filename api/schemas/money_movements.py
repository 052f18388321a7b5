from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.schemas.common import IdField, MoneyIn, MoneyOut, RequestModel
from api.schemas.loans import LoanStatus


class InvestmentCreate(RequestModel):
    amount: MoneyIn


class InvestmentPublic(BaseModel):
    investment_id: int
    loan_id: int
    investor_id: int
    amount: MoneyOut
    loan_status: LoanStatus
    loan_funded_amount: MoneyOut
    created_at: datetime


class DepositCreate(RequestModel):
    amount: MoneyIn


class WithdrawalCreate(RequestModel):
    amount: MoneyIn


class CashTransferPublic(BaseModel):
    transfer_id: int
    direction: str
    amount: MoneyOut
    cash_balance: MoneyOut
    processor_reference: str
    created_at: datetime


class PaymentCreate(RequestModel):
    loan_id: IdField
    amount: MoneyIn


class DistributionPublic(BaseModel):
    investment_id: int
    investor_id: int
    principal: MoneyOut
    interest: MoneyOut


class PaymentPublic(BaseModel):
    payment_id: int
    loan_id: int
    amount: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    fees: MoneyOut
    date: date
    loan_status: LoanStatus
    outstanding_principal: MoneyOut | None = Field(default=None, description="After this payment (on creation)")
    processor_reference: str
    distributions: list[DistributionPublic] | None = None


class NotePublic(BaseModel):
    investment_id: int
    loan_id: int
    amount: MoneyOut
    grade: str
    interest_rate: MoneyOut
    loan_status: LoanStatus
    principal_received: MoneyOut
    interest_received: MoneyOut
    outstanding_principal: MoneyOut
    created_at: datetime


class PortfolioPublic(BaseModel):
    investor_id: int
    username: str
    cash: MoneyOut
    committed: MoneyOut
    outstanding_principal: MoneyOut
    interest_received: MoneyOut
    principal_received: MoneyOut
    portfolio_value: MoneyOut
    notes: list[NotePublic]


class NotificationPublic(BaseModel):
    notification_id: int
    kind: str
    loan_id: int | None
    message: str
    created_at: datetime
    read: bool


class AccountBalancePublic(BaseModel):
    code: str
    account_type: str
    balance: MoneyOut


class TrialBalancePublic(BaseModel):
    accounts: list[AccountBalancePublic]
    total: MoneyOut
    unbalanced_transactions: list[int]
