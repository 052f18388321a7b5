"""How a borrower's payment is applied to the schedule (pure).

Rule: the payment pays installments oldest first; within an installment, interest before
principal. Paying more than the current installment pays the next ones the same way (paying
ahead); paying more than everything still owed is refused. Late fees come first once they exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    number: int
    principal_due_cents: int
    interest_due_cents: int


@dataclass(frozen=True, slots=True)
class AppliedPart:
    number: int
    principal_cents: int
    interest_cents: int


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    parts: tuple[AppliedPart, ...]
    principal_cents: int
    interest_cents: int


class PaymentExceedsBalance(ValueError):
    def __init__(self, outstanding_cents: int) -> None:
        super().__init__(f"payment exceeds the {outstanding_cents} cents still owed")
        self.outstanding_cents = outstanding_cents


def total_owed(dues: Sequence[InstallmentDue]) -> int:
    return sum(d.principal_due_cents + d.interest_due_cents for d in dues)


def apply_payment(dues: Sequence[InstallmentDue], amount_cents: int) -> AppliedPayment:
    if amount_cents <= 0:
        raise ValueError("payment must be positive")
    owed = total_owed(dues)
    if amount_cents > owed:
        raise PaymentExceedsBalance(owed)
    left = amount_cents
    parts: list[AppliedPart] = []
    for due in sorted(dues, key=lambda d: d.number):
        if left == 0:
            break
        interest = min(left, due.interest_due_cents)
        left -= interest
        principal = min(left, due.principal_due_cents)
        left -= principal
        if interest or principal:
            parts.append(AppliedPart(due.number, principal, interest))
    return AppliedPayment(
        parts=tuple(parts),
        principal_cents=sum(p.principal_cents for p in parts),
        interest_cents=sum(p.interest_cents for p in parts),
    )
