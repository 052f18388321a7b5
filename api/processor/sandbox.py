"""The embedded default processor: accepts every transfer at once and hands back a unique
reference, as a processor's sandbox does. Real processors plug in behind the same protocol."""

from __future__ import annotations

import uuid


class SandboxProcessor:
    name = "sandbox"

    def collect(self, *, user_id: int, amount_cents: int, purpose: str) -> str:
        return f"sbx_in_{uuid.uuid4().hex[:20]}"

    def payout(self, *, user_id: int, amount_cents: int, purpose: str) -> str:
        return f"sbx_out_{uuid.uuid4().hex[:20]}"
