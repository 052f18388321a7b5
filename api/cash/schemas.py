"""Cash's request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from api.kit.schemas import Cents, MoneyIn, RequestModel


class DepositCreate(RequestModel):
    amount: MoneyIn


class WithdrawalCreate(RequestModel):
    amount: MoneyIn


class CashTransferPublic(BaseModel):
    transfer_id: int
    direction: str
    amount: Cents
    cash_balance: Cents
    processor_reference: str
    created_at: datetime
