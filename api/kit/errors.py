"""Domain errors carry their HTTP status; one handler (api/kit/handlers.py) renders them as
`{"detail": ..., "code": ...}`. 422 stays for payload validation."""

from __future__ import annotations


class PeerlendError(Exception):
    status_code = 400
    code = "bad_request"
    # True for errors whose bookkeeping must be committed although the request fails
    # (a failed-login count, a revoked session); everything else rolls back.
    keeps_writes = False

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class BadRequest(PeerlendError):
    status_code = 400
    code = "bad_request"


class InvalidAmount(PeerlendError):
    status_code = 422
    code = "invalid_amount"


class InvalidInput(PeerlendError):
    status_code = 422
    code = "validation_error"


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


class TooManyRequests(PeerlendError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(PeerlendError):
    """The database (or another dependency) cannot be reached: nothing was written; retry later."""

    status_code = 503
    code = "unavailable"


class IdempotencyKeyReused(PeerlendError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyKeyMissing(PeerlendError):
    status_code = 400
    code = "idempotency_key_required"
