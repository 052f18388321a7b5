"""Domain errors carry their HTTP status; one handler in api/main.py renders them as
`{"detail": ..., "code": ...}`. 422 stays for payload validation."""

from __future__ import annotations


class PeerlendError(Exception):
    status_code = 400
    code = "bad_request"
    # True for errors whose bookkeeping must be committed although the request fails
    # (a failed-login count, a revoked session); everything else rolls back.
    keeps_writes = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(PeerlendError):
    status_code = 400
    code = "bad_request"


class InvalidAmount(PeerlendError):
    status_code = 422
    code = "invalid_amount"


class NotAuthenticated(PeerlendError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(PeerlendError):
    status_code = 403
    code = "forbidden"


class NotFound(PeerlendError):
    status_code = 404
    code = "not_found"


class Conflict(PeerlendError):
    status_code = 409
    code = "conflict"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class LoanNotOpen(Conflict):
    code = "loan_not_open"


class ExceedsLoanAmount(Conflict):
    code = "exceeds_loan_amount"


class IdempotencyKeyReused(PeerlendError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyKeyMissing(PeerlendError):
    status_code = 400
    code = "idempotency_key_required"
