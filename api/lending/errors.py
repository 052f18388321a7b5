"""Lending's refusals, each with its status and code."""

from __future__ import annotations

from api.kit.errors import Conflict, PeerlendError


class LoanNotOpen(Conflict):
    code = "loan_not_open"


class ExceedsLoanAmount(Conflict):
    code = "exceeds_loan_amount"


class ExceedsInvestorCap(Conflict):
    code = "exceeds_investor_cap"


class CommitmentNotCancellable(Conflict):
    code = "commitment_not_cancellable"


class ConsentRequired(PeerlendError):
    status_code = 422
    code = "consent_required"


class RateBelowFloor(PeerlendError):
    status_code = 422
    code = "rate_below_floor"


class AprAboveCap(PeerlendError):
    status_code = 422
    code = "apr_above_cap"


class PlanNotPlaceable(Conflict):
    code = "plan_not_placeable"


class NoPlanPossible(Conflict):
    code = "no_plan_possible"


class InvalidRules(PeerlendError):
    status_code = 422
    code = "invalid_rules"
