"""The payment-processor integration layer: how money enters and leaves the platform's account
at its processor. The ledger's `processor_cash` account mirrors the processor's balance."""

from __future__ import annotations

from typing import Protocol

from api.errors import PeerlendError


class ProcessorDeclined(PeerlendError):
    status_code = 402
    code = "payment_declined"


class PaymentProcessor(Protocol):
    name: str

    def collect(self, *, user_id: int, amount_cents: int, purpose: str) -> str:
        """Pull money from the user's linked bank account; returns the processor's reference."""
        ...

    def payout(self, *, user_id: int, amount_cents: int, purpose: str) -> str:
        """Push money to the user's linked bank account; returns the processor's reference."""
        ...
