"""Lending's refusals, each with its status and code."""

from __future__ import annotations

from api.kit.errors import Conflict


class LoanNotOpen(Conflict):
    code = "loan_not_open"


class ExceedsLoanAmount(Conflict):
    code = "exceeds_loan_amount"
