"""Cash's request and response bodies."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.kit.schemas import Cents, MoneyIn, RequestModel


class DepositCreate(RequestModel):
    amount: MoneyIn


class WithdrawalCreate(RequestModel):
    amount: MoneyIn


class CashTransferPublic(BaseModel):
    transfer_id: int
    direction: str
    amount: Cents
    cash_balance: Cents = Field(description="Available cash after this transfer (pending deposits excluded)")
    pending_cash: Cents = Field(description="Deposits and payments received but not yet settled: not spendable")
    status: str = Field(description="pending until the processor settles it (or returns it)")
    processor_reference: str = Field(description="Our reference for the transfer at the processor")
    created_at: datetime


class TransferStatePublic(BaseModel):
    transfer_id: int
    kind: str
    amount: Cents
    status: str
    return_code: str | None
    requested_on: date
    settled_on: date | None
    returned_on: date | None


class CashPublic(BaseModel):
    available: Cents = Field(description="Settled cash: investable and withdrawable")
    pending: Cents = Field(description="Not yet settled by the processor: never spendable")
    committed: Cents = Field(description="Committed to listings not yet issued")
    transfers: list[TransferStatePublic]
