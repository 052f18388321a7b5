"""The embedded default processor: accepts every transfer at once and hands back a unique
reference, as a processor's sandbox does, and honours idempotency keys the way real processors do.
Real processors plug in behind the same protocol."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from api.integrations.processor.base import ProcessorDeclined


@dataclass(frozen=True)
class Movement:
    direction: str
    user_id: int
    amount_cents: int
    reference: str


class SandboxProcessor:
    name = "sandbox"

    def __init__(self) -> None:
        self.movements: list[Movement] = []
        self._by_key: dict[str, Movement] = {}
        self._lock = threading.Lock()

    def collect(self, *, user_id: int, amount_cents: int, purpose: str, idempotency_key: str) -> str:
        return self._move("in", user_id, amount_cents, idempotency_key)

    def payout(self, *, user_id: int, amount_cents: int, purpose: str, idempotency_key: str) -> str:
        return self._move("out", user_id, amount_cents, idempotency_key)

    def _move(self, direction: str, user_id: int, amount_cents: int, key: str) -> str:
        with self._lock:
            seen = self._by_key.get(key)
            if seen is not None:
                if (seen.direction, seen.user_id, seen.amount_cents) != (direction, user_id, amount_cents):
                    raise ProcessorDeclined("the processor saw this idempotency key with a different transfer")
                return seen.reference
            movement = Movement(direction, user_id, amount_cents, f"sbx_{direction}_{uuid.uuid4().hex[:20]}")
            self._by_key[key] = movement
            self.movements.append(movement)
            return movement.reference
