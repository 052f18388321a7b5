"""The ledger's response bodies."""

from __future__ import annotations

from pydantic import BaseModel

from api.kit.schemas import Cents


class AccountBalancePublic(BaseModel):
    code: str
    account_type: str
    balance: Cents


class BalanceMismatchPublic(BaseModel):
    code: str
    stored: Cents
    sum_of_postings: Cents


class TrialBalancePublic(BaseModel):
    accounts: list[AccountBalancePublic]
    total: Cents
    unbalanced_transactions: list[int]
    balance_mismatches: list[BalanceMismatchPublic]
