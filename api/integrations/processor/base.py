"""The payment-processor integration layer: how money enters and leaves the platform's account
at its processor. The ledger's `processor_cash` account mirrors the processor's balance.

Every call carries an idempotency key, as real processors accept: if our transaction fails after
the processor moved the money (a crash, a lost connection, a failed commit), the client's retry
with the same Idempotency-Key reaches the processor with the same key and gets the first transfer
back instead of moving the money a second time."""

from __future__ import annotations

from typing import Protocol

from api.kit.errors import PeerlendError


class ProcessorDeclined(PeerlendError):
    status_code = 402
    code = "payment_declined"


class PaymentProcessor(Protocol):
    name: str

    def collect(self, *, user_id: int, amount_cents: int, purpose: str, idempotency_key: str) -> str:
        """Pull money from the user's linked bank account; returns the processor's reference."""
        ...

    def payout(self, *, user_id: int, amount_cents: int, purpose: str, idempotency_key: str) -> str:
        """Push money to the user's linked bank account; returns the processor's reference."""
        ...
